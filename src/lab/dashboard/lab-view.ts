// What the lab's observers — the live view, the dashboard's feed and the lab's /metrics — read: the API's
// store, the Service's L4 proxies and the mesh's L7 proxy for the post's Deployment. They only read.
import type { ObjectStore } from '../api/store.js';
import type { Endpoints } from '../data-plane/endpoints.js';
import type { MeshProxy } from '../data-plane/mesh-proxy.js';
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
  mesh: MeshProxy | undefined;
}
