// One mesh client holding every stream the pods allow (3 pods × 100 Health/Watch streams) must not
// starve the others for longer than it holds them. As in linkerd2-proxy, the mesh keeps one connection
// per pod and the pod's limit stands: calls beyond it wait on that connection, in order, until a stream
// frees up — a caller whose deadline comes first gets its own DEADLINE_EXCEEDED, which tells nothing
// about the pod (never classified, so never held against it) — and then go through.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { after, describe, it } from 'node:test';
import { LINKERD_ACCRUAL_DEFAULTS } from '../src/lab/data-plane/linkerd-annotations.js';
import { getAddr, HealthClient, meshOver, startPod, type TestPod } from './support/mesh-pods.js';
import { waitUntil } from './support/wait.js';

const pods: TestPod[] = [];
after(() => pods.forEach((p) => p.server.forceShutdown()));

describe('the mesh and a client holding every stream the pods allow', () => {
  it('lets other calls through as soon as streams free up, and holds none of the wait against the pods', async () => {
    for (const ip of ['10.6.0.8', '10.6.0.9', '10.6.0.10']) pods.push(await startPod(ip));
    // With failure accrual on, so that a starved call counted against its pod would show.
    const mesh = await meshOver(pods, { accrual: LINKERD_ACCRUAL_DEFAULTS });
    const watcher = new HealthClient(`127.0.0.1:${mesh.port}`, grpc.credentials.createInsecure());
    const watches: Array<grpc.ClientReadableStream<{ status: string }>> = [];
    try {
      let serving = 0;
      for (let i = 0; i < 300; i++) {
        const watch = watcher.watch({ service: '' });
        watch.on('data', () => (serving += 1));
        watch.on('error', () => undefined);
        watches.push(watch);
      }
      await waitUntil('the 300 watches started', () => serving === 300, 15_000);
      const perPod = (ip: string) => mesh.of('request').filter((e) => e.ip === ip).length;
      assert.deepEqual(
        pods.map((p) => perPod(p.ip)),
        [100, 100, 100],
        'round-robin put 100 watches on each pod: every stream they allow',
      );

      // Calls made while every stream is taken wait; these callers give up first (a deadline of 300 ms).
      const starved = await Promise.all(Array.from({ length: 30 }, () => getAddr(mesh.client, 300)));
      for (const outcome of starved) assert.equal(outcome.code, grpc.status.DEADLINE_EXCEEDED, JSON.stringify(outcome));
      assert.equal(mesh.of('tripped').length, 0, 'a caller that gave up is no failure of the pod');

      // Calls made now wait on their pod's connection, and go once the holder lets 10 streams per pod go.
      const sent = mesh.of('request').length;
      const waiting = Array.from({ length: 6 }, () => getAddr(mesh.client, 10_000));
      await waitUntil('the mesh sent the 6 calls on to their pods', () => mesh.of('request').length === sent + 6, 5000);
      for (const watch of watches.splice(0, 30)) watch.cancel();
      const answered = await Promise.all(waiting);
      assert.deepEqual(
        answered.map((o) => o.code),
        answered.map(() => undefined),
        JSON.stringify(answered),
      );
      assert.equal(mesh.of('tripped').length, 0);
    } finally {
      for (const watch of watches) watch.cancel();
      watcher.close();
      await mesh.close();
    }
  });
});
