// The mesh as a process of its own, in-process: fed by the Service's EndpointSlices through the lab's
// Kubernetes API, it follows endpoint changes, lists again after 410 Gone, takes failure accrual from the
// Service's annotations. (out/mesh as a program: test/e2e/mesh-process.test.ts.)
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { describe, it } from 'node:test';
import { ACCRUAL_ANNOTATIONS } from '../src/lab/data-plane/linkerd-annotations.js';
import { runMesh } from '../src/lab/data-plane/mesh-process.js';
import { SliceEndpoints } from '../src/lab/data-plane/slice-endpoints.js';
import { addrClient } from './support/grpc.js';
import { getAddr, startPod } from './support/mesh-pods.js';
import { NS, publishPod, serviceFixtures } from './support/slice-api.js';
import { waitUntil } from './support/wait.js';

const { apiWith, keep } = serviceFixtures();

describe("the mesh's EndpointSlice source", () => {
  it('lists, then follows changes; after 410 Gone it lists again and sees what changed meanwhile', async () => {
    const api = await apiWith('one');
    const pod = await startPod('127.0.0.1');
    keep(pod);
    publishPod(api, 'one', pod);
    const source = new SliceEndpoints({ api: `http://127.0.0.1:${api.port}`, namespace: NS, service: 'one' });
    const changes: string[][] = [];
    source.on('change', (list) => changes.push(list.map((e) => `${e.ip}:${e.grpcPort}`)));
    try {
      await source.start();
      assert.deepEqual(source.list(), [{ ip: '127.0.0.1', address: '127.0.0.1', httpPort: 0, grpcPort: pod.port }]);
      publishPod(api, 'one', pod, false);
      await waitUntil('the unready pod left', () => source.list().length === 0, 3000);
      await waitUntil('the source watches', () => api.api.endWatches() === 1, 3000);
      api.store.compact(); // a watch from any earlier version is now 410 Gone
      publishPod(api, 'one', pod, true);
      await waitUntil('seen after listing again', () => source.list().length === 1, 5000);
      assert.deepEqual(changes, [[`127.0.0.1:${pod.port}`], [], [`127.0.0.1:${pod.port}`]]);
    } finally {
      source.stop();
    }
  });
});

describe('runMesh', () => {
  it("balances over the Service's slices and reads failure accrual from its annotations", async () => {
    const api = await apiWith('two', {
      [ACCRUAL_ANNOTATIONS.mode]: 'consecutive',
      [ACCRUAL_ANNOTATIONS.maxFailures]: '2',
      [ACCRUAL_ANNOTATIONS.minPenalty]: '1m',
    });
    const failing = await startPod('10.8.0.9', { fail: grpc.status.UNAVAILABLE });
    keep(failing);
    publishPod(api, 'two', failing);
    const running = await runMesh({
      api: `http://127.0.0.1:${api.port}`,
      namespace: NS,
      service: 'two',
      port: 0,
      mesh: { failfastMs: 100 }, // the third call finds no endpoint ready: fail fast in 0.1 s, not 3
    });
    const client = addrClient(running.port);
    const tripped: string[] = [];
    running.mesh.on('tripped', ({ ip }) => tripped.push(ip));
    try {
      assert.equal(running.accrualWarning, undefined);
      for (let i = 0; i < 3; i++) await getAddr(client);
      assert.deepEqual(tripped, ['127.0.0.1'], 'set aside after 2 failures, as annotated');
    } finally {
      client.close();
      await running.close();
    }
  });
});
