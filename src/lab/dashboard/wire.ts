// What the dashboard's server sends its page over server-sent events: the types both sides share.
// (Types only: the page is bundled for the browser.)

/** One of the lab's clients, as the page names it. */
export interface FeedClient {
  id: string;
  label: string;
}

export interface PodView {
  name: string;
  ip: string;
  /** Pending, Running (not ready), Ready, or Terminating */
  state: string;
  created: string;
}

export interface DeploymentView {
  replicas: number;
  ready: number;
}

/** One second of traffic. */
export interface Tick {
  /** seconds since the epoch */
  t: number;
  /** per client id: replies per pod IP in this second */
  calls: Record<string, Record<string, number>>;
  errors: Record<string, number>;
  /** per Service port (http, grpc) and pod IP: [connections open now, connections opened so far] */
  service: Record<string, Record<string, [number, number]>>;
  /** per pod IP: requests the mesh sent it so far */
  mesh: Record<string, number>;
}

/** The first event on a feed: where to send kubectl's requests, and the state so far. */
export interface Hello {
  apiPort: number;
  namespace: string;
  deployment: string;
  maxReplicas: number;
  clients: FeedClient[];
  history: Tick[];
  pods: PodView[];
  replicas: DeploymentView;
}
