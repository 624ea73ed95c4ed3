// The lab's defaults, in one place: the post's NodePorts, Linkerd's outbound port, the API and the
// dashboard beside each other, and the pod network. Several labs run side by side when each is given
// ports and a pod network of its own.
export { DEFAULT_POD_CIDR } from './node/pod-network.js';

/** The post's Service: HTTP on NodePort 30080, gRPC on 30051. */
export const DEFAULT_HTTP_NODE_PORT = 30080;
export const DEFAULT_GRPC_NODE_PORT = 30051;
/** Linkerd's outbound port, where the in-mesh client's sidecar listens. */
export const DEFAULT_MESH_PORT = 4140;
/** Where `lab up` serves its Kubernetes API and its dashboard. */
export const DEFAULT_API_PORT = 30000;
export const DEFAULT_DASHBOARD_PORT = 30001;
