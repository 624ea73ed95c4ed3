// addr-server's HTTP side, in-process on loopback: what a request that fails inside Express gets back.
// Malformed requests never get that far (Node's HTTP parser answers them 400 itself, and no route of
// the server decodes a parameter), so the failure here is a scrape whose collector throws.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { DrainState } from '../src/server/drain.js';
import { Faults, NO_FAULTS } from '../src/server/faults.js';
import { createHttpServer } from '../src/server/http.js';
import { ServerMetrics } from '../src/server/metrics.js';

describe("addr-server's HTTP server (in-process)", () => {
  it('answers a scrape whose collector throws with a plain 500 (no stack trace), and goes on answering', async () => {
    const pod = { ip: '10.1.0.8', name: 'pod-a' };
    const drain = new DrainState();
    const metrics = new ServerMetrics(pod, drain, NO_FAULTS);
    // A collector that fails at scrape time, as one reading /proc may: prom-client's registry rejects.
    metrics.registry.registerMetric({
      name: 'broken_collector',
      help: 'fails at every scrape',
      type: 'gauge',
      aggregator: 'sum',
      get() {
        throw new Error('cannot read /proc/self/stat at /secret/path.js:1:1');
      },
      reset() {},
    } as unknown as Parameters<typeof metrics.registry.registerMetric>[0]);
    const server = createHttpServer({ pod, faults: new Faults(NO_FAULTS), drain, metrics }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const scrape = await fetch(`${base}/metrics`);
      assert.equal(scrape.status, 500);
      assert.match(scrape.headers.get('content-type') ?? '', /^text\/plain/);
      assert.equal(await scrape.text(), 'Internal Server Error');

      const addr = await fetch(`${base}/addr`);
      assert.equal(addr.status, 200);
      assert.equal(await addr.text(), '10.1.0.8');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
