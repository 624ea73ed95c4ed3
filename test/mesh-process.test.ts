// The mesh as a process of its own, fed by the Service's EndpointSlices through the lab's Kubernetes API:
// it follows endpoint changes, lists again after 410 Gone, takes failure accrual from the Service's
// annotations; and out/mesh runs it as a program.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { after, describe, it } from 'node:test';
import { ACCRUAL_ANNOTATIONS } from '../src/lab/data-plane/linkerd-annotations.js';
import { parseMeshEvent, parseMeshListening, runMesh } from '../src/lab/data-plane/mesh-process.js';
import { SliceEndpoints } from '../src/lab/data-plane/slice-endpoints.js';
import { addrClient } from './support/grpc.js';
import { getAddr, startPod, until, type TestPod } from './support/mesh-pods.js';
import { freePort, start } from './support/processes.js';
import { NS, SliceApi } from './support/slice-api.js';

const pods: TestPod[] = [];
const apis: SliceApi[] = [];
after(async () => {
  pods.forEach((p) => p.server.forceShutdown());
  for (const api of apis) await api.close();
});

async function apiWith(service: string, annotations: Record<string, string> = {}): Promise<SliceApi> {
  const api = new SliceApi(await freePort());
  apis.push(api);
  api.store.create('services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: service, namespace: NS, annotations },
    spec: { ports: [{ name: 'grpc', port: 30051 }] },
  });
  await api.listen();
  return api;
}

/** A slice of `pods` (all on 127.0.0.1 in these tests, so each pod's port is its slice's). */
function publish(api: SliceApi, service: string, pod: TestPod, ready = true): void {
  api.apply(`${service}-${pod.ip}`, service, { name: 'grpc', port: pod.port }, [{ ip: '127.0.0.1', ready }]);
}

describe("the mesh's EndpointSlice source", () => {
  it('lists, then follows changes; after 410 Gone it lists again and sees what changed meanwhile', async () => {
    const api = await apiWith('one');
    const pod = await startPod('127.0.0.1');
    pods.push(pod);
    publish(api, 'one', pod);
    const source = new SliceEndpoints({ api: `http://127.0.0.1:${api.port}`, namespace: NS, service: 'one' });
    const changes: string[][] = [];
    source.on('change', (list) => changes.push(list.map((e) => `${e.ip}:${e.grpcPort}`)));
    try {
      await source.start();
      assert.deepEqual(source.list(), [{ ip: '127.0.0.1', address: '127.0.0.1', httpPort: 0, grpcPort: pod.port }]);
      publish(api, 'one', pod, false);
      await until(() => source.list().length === 0, 3000, 'the unready pod left');
      await until(() => api.api.endWatches() === 1, 3000, 'the source watches');
      api.store.compact(); // a watch from any earlier version is now 410 Gone
      publish(api, 'one', pod, true);
      await until(() => source.list().length === 1, 5000, 'seen after listing again');
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
    pods.push(failing);
    publish(api, 'two', failing);
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

describe('out/mesh', () => {
  it('prints where it listens, answers through the pods the API lists, tells its events, and stops on SIGTERM', async () => {
    const api = await apiWith('three');
    const pod = await startPod('127.0.0.1');
    pods.push(pod);
    publish(api, 'three', pod);
    const mesh = start('mesh', ['--api', `http://127.0.0.1:${api.port}`, '--service', 'three', '--port', '0']);
    try {
      const port = parseMeshListening((await mesh.waitFor(/msg=listening /)).input ?? '');
      assert.ok(port, mesh.lines.join('\n'));
      const client = addrClient(port);
      assert.deepEqual(await getAddr(client), { addr: '127.0.0.1' });
      client.close();
      publish(api, 'three', pod, false);
      await mesh.waitFor(/"event":"endpoints","ips":\[\]/);
      const events = mesh.lines.map(parseMeshEvent).filter((e) => e !== undefined);
      assert.deepEqual(
        events.map((e) => e.event),
        ['connected', 'endpoints'],
      );
      assert.equal(await mesh.stop('SIGTERM'), 0);
    } finally {
      await mesh.stop('SIGKILL');
    }
  });
});
