// addr-server's tallies written for Prometheus, in-process: scraped and parsed as Prometheus would.
// (The server's /metrics over HTTP and the lab's: test/e2e/metrics.test.ts, test/e2e/lab/lab-metrics.test.ts.)
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { DrainState } from '../src/server/drain.js';
import { NO_FAULTS } from '../src/server/faults.js';
import { ServerMetrics } from '../src/server/metrics.js';

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
