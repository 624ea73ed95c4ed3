// Waiting on what addr-server says about itself on /metrics, instead of sleeping and hoping: e.g. until
// a call is in flight before sending SIGTERM.
import { scrape, total } from '../../support/prometheus.js';
import { waitUntil } from '../../support/wait.js';
import type { ServerProcess } from './processes.js';

/** Resolves once addr_server_requests_in_flight{protocol} reaches `atLeast`; rejects after timeoutMs. */
export async function callsInFlight(
  server: ServerProcess,
  atLeast: number,
  protocol: 'grpc' | 'http' = 'grpc',
  timeoutMs = 10_000,
): Promise<number> {
  let now = 0;
  await waitUntil(
    `${protocol} requests in flight reach ${atLeast}`,
    async () => {
      const scraped = await scrape(`http://127.0.0.1:${server.httpPort}/metrics`);
      now = total(scraped, 'addr_server_requests_in_flight', { protocol });
      return now >= atLeast;
    },
    timeoutMs,
    20,
  );
  return now;
}
