// Waiting on what addr-server says about itself on /metrics, instead of sleeping and hoping: e.g. until
// a call is in flight before sending SIGTERM.
import type { ServerProcess } from './processes.js';
import { scrape, total } from './prometheus.js';

/** Resolves once addr_server_requests_in_flight{protocol} reaches `atLeast`; rejects after timeoutMs. */
export async function callsInFlight(
  server: ServerProcess,
  atLeast: number,
  protocol: 'grpc' | 'http' = 'grpc',
  timeoutMs = 10_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = total(await scrape(`http://127.0.0.1:${server.httpPort}/metrics`), 'addr_server_requests_in_flight', {
      protocol,
    });
    if (now >= atLeast) return now;
    if (Date.now() > deadline)
      throw new Error(`${protocol} requests in flight stayed at ${now} (waited for ${atLeast}) for ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
