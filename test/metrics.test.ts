// Prometheus metrics: addr-server's on its HTTP port, the lab's on its dashboard's port. Scraped and
// parsed as Prometheus would; the counters must move with the calls the test makes, under the right pod.
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getAddr, healthCheck } from './support/grpc.js';
import { waitUntil } from './support/kubectl.js';
import { labUp } from './support/lab-up.js';
import { exitWithin, replies, run, start, startServer } from './support/processes.js';
import { family, labelSets, scrape, total } from './support/prometheus.js';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { DrainState } from '../src/server/drain.js';
import { NO_FAULTS } from '../src/server/faults.js';
import { ServerMetrics } from '../src/server/metrics.js';

const REQUESTS = 'addr_server_requests_total';

/** A call to a method the server does not have: grpc-js answers UNIMPLEMENTED. */
function callUnknownMethod(port: number): Promise<number> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise((resolve) =>
    client.makeUnaryRequest(
      '/addr.Addr/NoSuchMethod',
      (value: Buffer) => value,
      (value: Buffer) => value,
      Buffer.alloc(0),
      (error) => {
        client.close();
        resolve(error?.code ?? 0);
      },
    ),
  );
}

describe("addr-server's tallies, written for Prometheus (in-process)", () => {
  it('writes each method as a histogram and a counter by code, from plain counts', async () => {
    const metrics = new ServerMetrics({ ip: '10.1.0.8', name: 'pod-a' }, new DrainState(), NO_FAULTS);
    const getAddr = metrics.tally('grpc', 'addr.Addr/GetAddr');
    assert.equal(metrics.tally('grpc', 'addr.Addr/GetAddr'), getAddr, 'one tally per method');
    getAddr.endOk(getAddr.begin());
    getAddr.endOk(getAddr.begin());
    getAddr.endGrpc(getAddr.begin() - 300, grpc.status.UNAVAILABLE); // as if it began 300 ms ago
    getAddr.begin(); // one still in flight
    const text = await metrics.registry.metrics();
    const scraped = new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
    const requests = scraped.get('addr_server_requests_total');
    const codes = Object.fromEntries((requests?.metrics ?? []).map((sample) => [sample.labels?.code, sample.value]));
    assert.deepEqual(codes, { OK: '2', UNAVAILABLE: '1' });
    const inFlight = scraped.get('addr_server_requests_in_flight')?.metrics.find((m) => m.labels?.protocol === 'grpc');
    assert.equal(inFlight?.value, '1');
    const [latency] = scraped.get('addr_server_request_duration_seconds')?.metrics ?? [];
    assert.match(
      text,
      /^addr_server_request_duration_seconds_count\{protocol="grpc",method="addr.Addr\/GetAddr",pod="pod-a",pod_ip="10.1.0.8"\} 3$/m,
    );
    assert.equal(Number(latency?.buckets?.['0.25']), 2, 'the slow one is above 0.25 s');
    assert.equal(latency?.buckets?.['+Inf'], '3');
    const sum = /^addr_server_request_duration_seconds_sum\{[^}]*\} (\S+)$/m.exec(text)?.[1];
    assert.ok(Number(sum) >= 0.3, `sum ${sum}`);
  });
});

describe('addr-server /metrics', () => {
  it('counts each call by protocol, method and code, labelled with the pod; unknown methods add no series', async () => {
    const server = await startServer('10.1.0.8');
    const url = `http://127.0.0.1:${server.httpPort}`;
    const pod = { pod: 'pod-10.1.0.8', pod_ip: '10.1.0.8' };
    try {
      for (let i = 0; i < 5; i++) await getAddr(server.grpcPort);
      assert.equal(await callUnknownMethod(server.grpcPort), grpc.status.UNIMPLEMENTED);
      const first = await scrape(`${url}/metrics`);
      assert.equal(total(first, REQUESTS, { ...pod, protocol: 'grpc', method: 'addr.Addr/GetAddr', code: 'OK' }), 5);
      assert.deepEqual(
        labelSets(first, REQUESTS).map((labels) => labels.method),
        ['addr.Addr/GetAddr'],
      );
      // +Inf counts them all; one series so far (the parser merges a histogram's label sets, and reads no _count with labels)
      const latency = family(first, 'addr_server_request_duration_seconds', 'HISTOGRAM');
      assert.equal(latency.metrics[0]?.buckets?.['+Inf'], '5');
      assert.equal(total(first, 'addr_server_requests_in_flight', { ...pod, protocol: 'grpc' }), 0);
      assert.equal(total(first, 'addr_server_serving', pod), 1);
      // No faults unless asked for (server.test.ts sets some)
      assert.equal(total(first, 'addr_server_fault_delay_seconds', pod), 0);
      assert.equal(total(first, 'addr_server_fault_delay_jitter_seconds', pod), 0);
      assert.equal(total(first, 'addr_server_fault_fail_ratio', { ...pod, code: 'UNAVAILABLE' }), 0);

      for (let i = 0; i < 3; i++) assert.equal((await fetch(`${url}/addr`)).status, 200);
      assert.equal((await fetch(`${url}/addr`, { method: 'POST' })).status, 405);
      for (const path of ['/no-such-page', '/another/one']) assert.equal((await fetch(`${url}${path}`)).status, 404);
      const second = await scrape(`${url}/metrics`);
      const http = (method: string, code: string) =>
        total(second, REQUESTS, { ...pod, protocol: 'http', method, code });
      assert.equal(http('GET /addr', '200'), 3);
      assert.equal(http('POST /addr', '405'), 1);
      assert.equal(http('GET other', '404'), 2, 'unknown paths share one series');
      assert.equal(http('GET /metrics', '200'), 1, 'the first scrape');
      assert.equal(total(second, REQUESTS, { protocol: 'grpc' }), 5);
      for (const labels of labelSets(second, REQUESTS))
        assert.deepEqual({ pod: labels.pod, pod_ip: labels.pod_ip }, pod);
      family(second, 'process_cpu_seconds_total', 'COUNTER');
    } finally {
      await server.stop();
    }
  });

  it('serving turns 0 on SIGTERM, as /health and the gRPC health service turn, while the pod still answers during its shutdown delay', async () => {
    const server = await startServer('10.1.0.9', ['--shutdown-delay-ms', '5000']);
    try {
      assert.equal(total(await scrape(`http://127.0.0.1:${server.httpPort}/metrics`), 'addr_server_serving'), 1);
      server.child.kill('SIGTERM');
      await server.waitFor(/shutting down/);
      assert.equal(total(await scrape(`http://127.0.0.1:${server.httpPort}/metrics`), 'addr_server_serving'), 0);
      assert.equal((await fetch(`http://127.0.0.1:${server.httpPort}/health`)).status, 503);
      assert.equal(await healthCheck(server.grpcPort), 'NOT_SERVING');
      assert.equal((await getAddr(server.grpcPort)).addr, '10.1.0.9', 'still answering');
    } finally {
      await server.stop('SIGKILL');
    }
  });
});

describe("the lab's /metrics", () => {
  it('counts the connections the Service opened and the requests the mesh sent to each pod, by pod IP; the pod counts them too', async () => {
    const lab = await labUp(1, ['--no-service-clients', '--no-k8s-client', '--no-mesh-client']);
    const labMetrics = `http://127.0.0.1:${lab.dashboard}/metrics`;
    try {
      await waitUntil('the pod is ready', async () => total(await scrape(labMetrics), 'lab_pods_ready') === 1);
      const pod = lab.ip(8);
      const opened = async (port: string) =>
        total(await scrape(labMetrics), 'lab_service_connections_opened_total', { port, pod_ip: pod });
      const before = { http: await opened('http'), grpc: await opened('grpc') };
      assert.equal(
        (await run('client-http', [`http://127.0.0.1:${lab.http}/addr`, '--count', '6', '--interval', '10'])).code,
        0,
      );
      assert.equal(await opened('http'), before.http + 6, 'a connection per HTTP call');

      // A gRPC client through the Service: one connection for all its calls, open on the pod while it runs.
      const client = start('client-grpc', [`localhost:${lab.grpc}`, '--count', '30', '--interval', '10']);
      try {
        await client.waitFor(/^#4: /);
        const during = await scrape(labMetrics);
        assert.equal(
          total(during, 'lab_service_connections_opened_total', { port: 'grpc', pod_ip: pod }),
          before.grpc + 1,
          'one connection for its calls',
        );
        assert.ok(
          total(during, 'lab_service_connections_open', { port: 'grpc', pod_ip: pod }) >= 1,
          'open now, on the pod',
        );
      } finally {
        assert.equal(await exitWithin(client, 20_000), 0, 'client-grpc ends at --count');
      }
      const grpcCalls = replies(client.lines).length;
      assert.equal(grpcCalls, 30);
      assert.equal((await run('client-grpc', [`localhost:${lab.mesh}`, '--count', '7', '--interval', '10'])).code, 0);

      const scraped = await scrape(labMetrics);
      assert.equal(total(scraped, 'lab_mesh_requests_total', { pod_ip: pod }), 7, 'a request per call');
      assert.equal(
        family(scraped, 'lab_mesh_request_duration_seconds', 'HISTOGRAM').metrics[0]?.buckets?.['+Inf'],
        '7',
      );
      assert.equal(total(scraped, 'lab_pods', { phase: 'Running' }), 1);
      assert.equal(total(scraped, 'lab_deployment_replicas'), 1);

      // The pod's own /metrics, at its pod IP, labelled with the name the API gives it.
      const pods = (await (await fetch(`http://127.0.0.1:${lab.api}/api/v1/namespaces/grpc-lb/pods`)).json()) as {
        items: Array<{ metadata: { name: string } }>;
      };
      const name = pods.items[0]?.metadata.name as string;
      const own = await scrape(`http://${pod}:8080/metrics`);
      assert.equal(
        total(own, REQUESTS, { pod: name, pod_ip: pod, protocol: 'http', method: 'GET /addr', code: '200' }),
        6,
      );
      assert.equal(
        total(own, REQUESTS, { pod: name, pod_ip: pod, protocol: 'grpc', method: 'addr.Addr/GetAddr', code: 'OK' }),
        grpcCalls + 7,
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
