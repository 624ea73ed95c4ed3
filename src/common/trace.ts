// What the parts of the lab's data plane know of the endpoints, and when, told on a diagnostics channel
// (node:diagnostics_channel, as undici and node:http tell theirs): the EndpointSlice written, kube-proxy's
// endpoints, a DNS answer served, an xDS push, nginx reloaded, a watch event sent. Nobody need listen;
// the experiment's recorder does, to time each hop from a pod's Ready to a strategy's first call to it.
import { channel } from 'node:diagnostics_channel';

export interface EndpointsSeen {
  /** which part, and for what: "slice:addr-server", "dns:addr-server-headless.grpc-lb.svc.cluster.local", … */
  part: string;
  /** the pod IPs it now has */
  ips: string[];
  /** when, ms since the Unix epoch (to the microsecond) */
  at: number;
}

const seen = channel('grpc-lb:endpoints-seen');

/** ms since the Unix epoch, to the microsecond: comparable across processes on one machine. */
export const epochNow = (): number => performance.timeOrigin + performance.now();

/** Tells what `part` knows of the endpoints now (cheap when nobody listens). */
export function endpointsSeen(part: string, ips: readonly string[]): void {
  if (seen.hasSubscribers) seen.publish({ part, ips: [...ips], at: epochNow() } satisfies EndpointsSeen);
}

/** Listens to every part's endpoints as they are told; returns the way to stop. */
export function onEndpointsSeen(listener: (seen: EndpointsSeen) => void): () => void {
  const handler = (message: unknown) => listener(message as EndpointsSeen);
  seen.subscribe(handler);
  return () => seen.unsubscribe(handler);
}
