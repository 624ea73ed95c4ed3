// addr-server's /metrics on its HTTP port, scraped and parsed as Prometheus would: the counters move with
// the calls the test makes, under the right pod, and serving turns 0 on SIGTERM.
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getAddr, healthCheck } from '../support/grpc.js';
import { family, labelSets, scrape, total } from '../support/prometheus.js';
import { startServer } from './support/processes.js';

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
