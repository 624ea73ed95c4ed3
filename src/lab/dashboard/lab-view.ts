// What the lab's observers — the live view, the dashboard's feed and the lab's /metrics — read: the API's
// store, the Service's L4 proxies and the mesh's L7 proxy for the post's Deployment. They only read.
import type { ObjectStore } from '../api/store.js';
import type { Endpoints } from '../data-plane/endpoints.js';
import type { Mesh } from '../data-plane/mesh.js';
import type { ServiceProxy } from '../data-plane/service-proxy.js';

export interface LabView {
  store: ObjectStore;
  namespace: string;
  /** the Deployment whose pods the Service and the mesh reach */
  deployment: string;
  /** its Service's ready endpoints */
  endpoints: Endpoints;
  http: ServiceProxy | undefined;
  grpc: ServiceProxy | undefined;
  mesh: Mesh | undefined;
  /** requests the mesh sent each pod so far (countMeshRequests) */
  meshRequests: ReadonlyMap<string, number>;
}

/** Requests the mesh sends each pod from now on, counted from its events. */
export function countMeshRequests(mesh: Mesh | undefined): ReadonlyMap<string, number> {
  const counts = new Map<string, number>();
  mesh?.on('request', ({ ip }) => counts.set(ip, (counts.get(ip) ?? 0) + 1));
  return counts;
}
