// The native data plane beside the lab's mesh: Debian's HAProxy, fed the Service's endpoints through its
// runtime API (no reload), balancing each gRPC call.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Endpoints } from '../../src/lab/data-plane/endpoints.js';
import { findHaproxy, HAPROXY_INSTALL, HaproxyMesh } from '../../src/lab/data-plane/haproxy-mesh.js';
import { addrClient } from '../support/grpc.js';
import { endpointOf, getAddr, startPod, type TestPod } from '../support/mesh-pods.js';

const pods: TestPod[] = [];
after(() => pods.forEach((p) => p.server.forceShutdown()));

describe('HAProxy as the data plane', () => {
  it('balances each call over the ready pods, and follows the endpoints without a reload', async () => {
    const haproxy = findHaproxy();
    assert.ok(haproxy, HAPROXY_INSTALL);
    for (const ip of ['10.9.0.8', '10.9.0.9']) pods.push(await startPod(ip));
    const endpoints = new Endpoints();
    endpoints.add(endpointOf(pods[0] as TestPod));
    const proxy = new HaproxyMesh(haproxy, endpoints);
    const port = await proxy.listen(0);
    const pid = proxy.pid;
    const client = addrClient(port);
    try {
      const seen = async (n: number) => {
        const counts: Record<string, number> = {};
        for (let i = 0; i < n; i++) {
          const { addr, code, details } = await getAddr(client);
          const key = addr ?? `error ${code}: ${details}`;
          counts[key] = (counts[key] ?? 0) + 1;
        }
        return counts;
      };
      assert.deepEqual(await seen(10), { '10.9.0.8': 10 });
      endpoints.add(endpointOf(pods[1] as TestPod));
      await proxy.settled();
      const both = await seen(40);
      assert.deepEqual(Object.keys(both).sort(), ['10.9.0.8', '10.9.0.9'], JSON.stringify(both));
      endpoints.remove('10.9.0.8');
      await proxy.settled();
      assert.deepEqual(await seen(10), { '10.9.0.9': 10 });
      assert.equal(proxy.pid, pid, 'the same process all along: no reload');
    } finally {
      client.close();
      await proxy.close();
    }
  });
});
