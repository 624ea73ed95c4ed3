// The lab's /metrics, on its dashboard's port, against `out/lab up` with no client of its own: the
// connections the Service opened and the requests the mesh sent to each pod, by pod IP, move with the calls
// the test makes; and the pod's own /metrics counts them too.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { family, scrape, total } from '../support/prometheus.js';
import { waitUntil } from '../support/wait.js';
import { labUp } from './support/lab-up.js';
import { podNetwork } from './support/pod-network.js';
import { podsOf } from './support/pods.js';
import { exitWithin, replies, run, start } from './support/processes.js';

const REQUESTS = 'addr_server_requests_total';

describe("the lab's /metrics", () => {
  it('counts the connections the Service opened and the requests the mesh sent to each pod, by pod IP; the pod counts them too', async () => {
    const network = podNetwork('lab-metrics');
    const lab = await labUp(network, ['--no-service-clients', '--no-k8s-client', '--no-mesh-client']);
    const labMetrics = `http://127.0.0.1:${lab.dashboard}/metrics`;
    const pod = network.ip(8);
    // The lab renders /metrics at most every half second (a flood of scrapes must not starve its proxies):
    // a figure shows up within that, so each is waited for, then checked for being exactly what it should.
    const settles = async (what: string, figure: () => Promise<number>, expected: number) => {
      await waitUntil(what, async () => (await figure()) >= expected, 5000, 100);
      assert.equal(await figure(), expected, what);
    };
    const opened = async (port: string) =>
      total(await scrape(labMetrics), 'lab_service_connections_opened_total', { port, pod_ip: pod });
    try {
      await waitUntil('the pod is ready', async () => total(await scrape(labMetrics), 'lab_pods_ready') === 1);
      const before = { http: await opened('http'), grpc: await opened('grpc') };
      const http = await run('client-http', [`http://127.0.0.1:${lab.http}/addr`, '--count', '6', '--interval', '10']);
      assert.equal(http.code, 0);
      await settles('a connection per HTTP call', () => opened('http'), before.http + 6);

      // A gRPC client through the Service: one connection for all its calls, open on the pod while it runs.
      const client = start('client-grpc', [`localhost:${lab.grpc}`, '--count', '40', '--interval', '50']);
      try {
        await client.waitFor(/^#1: /);
        await settles('one connection for its calls', () => opened('grpc'), before.grpc + 1);
        const open = await scrape(labMetrics);
        assert.equal(
          total(open, 'lab_service_connections_open', { port: 'grpc', pod_ip: pod }),
          1,
          'open now, on the pod',
        );
      } finally {
        assert.equal(await exitWithin(client, 20_000), 0, 'client-grpc ends at --count');
      }
      assert.equal(replies(client.lines).length, 40);
      assert.equal((await run('client-grpc', [`localhost:${lab.mesh}`, '--count', '7', '--interval', '10'])).code, 0);

      const mesh = async () => total(await scrape(labMetrics), 'lab_mesh_requests_total', { pod_ip: pod });
      await settles('a mesh request per call', mesh, 7);
      const scraped = await scrape(labMetrics);
      assert.equal(
        family(scraped, 'lab_mesh_request_duration_seconds', 'HISTOGRAM').metrics[0]?.buckets?.['+Inf'],
        '7',
      );
      assert.equal(total(scraped, 'lab_pods', { phase: 'Running' }), 1);
      assert.equal(total(scraped, 'lab_deployment_replicas'), 1);

      // The pod's own /metrics, at its pod IP, labelled with the name the API gives it.
      const [{ name } = { name: '' }] = (await podsOf(lab.api)).pods;
      const own = await scrape(`http://${pod}:8080/metrics`);
      assert.equal(
        total(own, REQUESTS, { pod: name, pod_ip: pod, protocol: 'http', method: 'GET /addr', code: '200' }),
        6,
      );
      assert.equal(
        total(own, REQUESTS, { pod: name, pod_ip: pod, protocol: 'grpc', method: 'addr.Addr/GetAddr', code: 'OK' }),
        40 + 7,
      );
      assert.ok(
        total(own, REQUESTS, { pod: name, method: 'grpc.health.v1.Health/Check' }) >= 1,
        "the kubelet's readiness probes",
      );
    } finally {
      await lab.stop();
    }
  });
});
