// What the data plane balances over: the Service's ready endpoints, as a list and a 'change' event with
// the new list — the shape of the control plane's Endpoints, which any other source (an EndpointSlice
// watch through the Kubernetes API) can take too.
import type { Endpoint } from './endpoints.js';

export interface EndpointSource {
  list(): Endpoint[];
  on(event: 'change', listener: (ready: Endpoint[]) => void): unknown;
  off(event: 'change', listener: (ready: Endpoint[]) => void): unknown;
}
