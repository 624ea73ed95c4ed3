// Every client's calls on a cluster, from its pods' logs: each strategy's client runs client-grpc with
// `--output jsonl`, one CallRecord per call on stdout (src/common/output.ts), and the kubelet keeps that
// output as the container's log. For each pod of a client Deployment whose client container runs, one log
// stream is followed through the API (`kubectl logs -f`, with @kubernetes/client-node's Log); a container
// that restarts, or a new pod, gets a stream of its own. Records are the client's own: `t` is its start on
// the pod's clock (ms since the epoch), so a run on a cluster assumes the nodes' clocks agree with this
// machine's (NTP keeps them within milliseconds).
import { PassThrough } from 'node:stream';
import { createInterface } from 'node:readline';
import type * as K8s from '@kubernetes/client-node';
import { parseCall, type CallRecord } from '../../common/output.js';
import type { KubeObject } from '../api/store.js';
import { specOf, statusOf, type DeploymentSpec, type PodStatus } from '../controllers/objects.js';
import type { ClusterApi } from './cluster-api.js';

type ClientNode = typeof K8s;

export interface LoggedClient {
  /** the strategy */
  name: string;
  /** its client Deployment: its selector picks the pods, its first container is the client */
  deployment: KubeObject;
}

interface Stream {
  controller: AbortController | undefined;
  /** the last call number read: a stream opened again skips what it already gave */
  last: number;
  open: boolean;
}

/** RFC 3339 to the second, as metav1.Time is written. */
const rfc3339 = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

export class ClientLogs {
  /** per strategy: calls read, and those answered OK */
  readonly counts = new Map<string, { calls: number; answered: number }>();
  readonly #k8s: ClientNode;
  readonly #config: K8s.KubeConfig;
  readonly #api: ClusterApi;
  readonly #clients: readonly LoggedClient[];
  readonly #onCall: (strategy: string, call: CallRecord) => void;
  readonly #since: number;
  readonly #say: (line: string) => void;
  /** by pod uid and restart count: one stream per container run */
  readonly #streams = new Map<string, Stream>();
  #watch: { stop(): void } | undefined;
  #stopped = false;

  constructor(
    k8s: ClientNode,
    config: K8s.KubeConfig,
    api: ClusterApi,
    clients: readonly LoggedClient[],
    options: { since: number; onCall: (strategy: string, call: CallRecord) => void; say: (line: string) => void },
  ) {
    this.#k8s = k8s;
    this.#config = config;
    this.#api = api;
    this.#clients = clients;
    this.#onCall = options.onCall;
    this.#since = options.since;
    this.#say = options.say;
    for (const client of clients) this.counts.set(client.name, { calls: 0, answered: 0 });
  }

  start(): void {
    this.#watch = this.#api.watch('pods', (type, pod) => {
      if (type !== 'DELETED') this.#follow(pod);
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#watch?.stop();
    for (const stream of this.#streams.values()) stream.controller?.abort();
  }

  #clientOf(pod: KubeObject): LoggedClient | undefined {
    const labels = pod.metadata.labels ?? {};
    return this.#clients.find((client) =>
      Object.entries(specOf<DeploymentSpec>(client.deployment).selector.matchLabels ?? {}).every(
        ([key, value]) => labels[key] === value,
      ),
    );
  }

  /** Opens a stream for the pod's client container if it runs and has none open. */
  #follow(pod: KubeObject): void {
    const client = this.#clientOf(pod);
    if (!client || this.#stopped) return;
    const container = specOf<DeploymentSpec>(client.deployment).template.spec.containers[0]?.name ?? '';
    const status = statusOf<PodStatus>(pod).containerStatuses?.find((c) => c.name === container);
    if (!status?.state || !('running' in status.state)) return;
    const key = `${pod.metadata.uid}/${status.restartCount}`;
    const stream = this.#streams.get(key) ?? { controller: undefined, last: 0, open: false };
    if (stream.open) return;
    stream.open = true;
    this.#streams.set(key, stream);
    void this.#open(client, pod, container, stream);
  }

  async #open(client: LoggedClient, pod: KubeObject, container: string, stream: Stream): Promise<void> {
    const out = new PassThrough();
    // client-node pipes the response body into `out` and leaves the body without an 'error' listener, so
    // that aborting the stream (stop()) would throw from it as an uncaught error: the body ends here instead.
    out.once('pipe', (body: NodeJS.ReadableStream) => body.on('error', () => out.end()));
    const lines = createInterface({ input: out, crlfDelay: Infinity });
    const counts = this.counts.get(client.name);
    lines.on('line', (line) => {
      const call = parseCall(line);
      if (!call || call.n <= stream.last) return;
      stream.last = call.n;
      if (call.t < this.#since) return; // before the run
      if (counts) {
        counts.calls += 1;
        if (call.code === 'OK') counts.answered += 1;
      }
      this.#onCall(client.name, call);
    });
    const ended = new Promise<void>((resolve) => {
      out.once('end', resolve);
      out.once('close', resolve);
    });
    try {
      stream.controller = await new this.#k8s.Log(this.#config).log(
        this.#api.namespace,
        pod.metadata.name,
        container,
        out,
        { follow: true, sinceTime: rfc3339(this.#since) },
      );
      await ended;
    } catch (error) {
      // Not started yet, or gone: the next event of the pod opens it again.
      const code = (error as { code?: unknown }).code;
      if (code !== 400 && code !== 404)
        this.#say(`compare: the log of pod ${pod.metadata.name}: ${String((error as Error).message ?? error)}`);
    } finally {
      lines.close();
      stream.open = false;
    }
    // A stream the API closed while the container still runs (a proxy's timeout) is opened again.
    if (!this.#stopped) {
      setTimeout(() => {
        void this.#api
          .listPods()
          .then((pods) => pods.find((p) => p.metadata.uid === pod.metadata.uid))
          .then((current) => current && this.#follow(current))
          .catch(() => undefined);
      }, 1000).unref();
    }
  }
}
