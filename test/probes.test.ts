// The lab kubelet's probes, in-process against servers the test controls: a result flips the verdict only
// after failureThreshold failures in a row, and probes start every periodSeconds even when each one waits
// out its timeoutSeconds, as the kubelet's prober worker does (its probes run off a time.Ticker:
// kubernetes pkg/kubelet/prober/worker.go, run()).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { after, describe, it } from 'node:test';
import { Prober } from '../src/lab/node/probes.js';
import { waitUntil } from './support/wait.js';

/** An HTTP server on 127.0.0.1 that answers /health as `answer` says, noting when each probe came. */
async function healthServer(answer: (req: IncomingMessage, res: ServerResponse) => void) {
  const arrivals: number[] = [];
  const server = createServer((req, res) => {
    arrivals.push(performance.now());
    answer(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { server, port, arrivals };
}

const servers: Array<{ server: ReturnType<typeof createServer> }> = [];
after(() => {
  for (const { server } of servers) {
    server.closeAllConnections();
    server.close();
  }
});

describe("the kubelet's probes", () => {
  it('flip the verdict after failureThreshold failures in a row, and back after a success', async () => {
    let healthy = true;
    const pod = await healthServer((_req, res) => res.writeHead(healthy ? 200 : 503).end());
    servers.push(pod);
    const changes: boolean[] = [];
    const prober = new Prober(
      { httpGet: { path: '/health', port: 'http' }, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 2 },
      { http: pod.port },
      (port) => ({ host: '127.0.0.1', port }),
      false,
      (passing) => changes.push(passing),
    );
    prober.start();
    try {
      await waitUntil('ready', () => changes.length === 1);
      healthy = false;
      const probed = pod.arrivals.length;
      await waitUntil('not ready', () => changes.length === 2, 10_000);
      assert.deepEqual(changes, [true, false]);
      assert.ok(pod.arrivals.length - probed >= 2, 'two failures in a row before it flipped');
      healthy = true;
      await waitUntil('ready again', () => changes.length === 3, 10_000);
      assert.deepEqual(changes, [true, false, true]);
    } finally {
      prober.stop();
    }
  });

  it('start a probe every period even when each waits out its timeout: a hung pod is seen as soon as the kubelet sees it', async () => {
    // A pod that hangs: its port accepts, its HTTP server never answers.
    const hung = await healthServer(() => undefined);
    servers.push(hung);
    const timing = { periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 3 };
    const changes: boolean[] = [];
    const prober = new Prober(
      { httpGet: { path: '/health', port: 8080 }, ...timing },
      {},
      () => ({ host: '127.0.0.1', port: hung.port }),
      true,
      (passing) => changes.push(passing),
    );
    prober.start();
    try {
      await waitUntil('not ready', () => changes.length === 1, 20_000);
      assert.deepEqual(changes, [false]);
      // Each probe started a period after the previous one started, not after it timed out: a gap of
      // period + timeout (what a schedule counted from each probe's end gives) is never reached.
      const failed = hung.arrivals.slice(0, timing.failureThreshold);
      assert.equal(failed.length, timing.failureThreshold);
      const gaps = failed.slice(1).map((t, i) => t - (failed[i] ?? t));
      for (const gap of gaps)
        assert.ok(gap < (timing.periodSeconds + timing.timeoutSeconds) * 1000, `probes ${gap.toFixed(0)} ms apart`);
    } finally {
      prober.stop();
    }
  });
});
