// A Service's ready endpoints from its EndpointSlices, through a Kubernetes API: a list, then a watch
// from the list's resourceVersion, as a sidecar's control plane follows them. The usual rules of the API:
//   - a watch that ends (its timeout, the API restarting) is opened again from the last resourceVersion
//     seen (bookmarks included);
//   - 410 Gone (an ERROR event with code 410, the history compacted) means list again;
//   - the API unreachable: list again after a backoff (100 ms, doubling up to 5 s), keeping the
//     endpoints known meanwhile, as kube-proxy and Linkerd's destination service do.
// Endpoints are ready as the EndpointSlice API says (a missing `ready` is ready); when none is, the
// serving ones that are terminating stand in, as kube-proxy does. A pod IP listed in two slices counts
// once. Plain HTTP against the API (the lab's, on loopback): no kubeconfig, no TLS. Written with
// node:http rather than @kubernetes/client-node, which takes ~0.5–1.5 s and ~60 MiB to load here — more
// than the whole mesh.
import { EventEmitter } from 'node:events';
import { get, type IncomingMessage } from 'node:http';
import type { Endpoint } from './endpoints.js';
import { backoffMs } from './backoff.js';
import type { EndpointSource } from './endpoint-source.js';

export interface SliceWatchOptions {
  /** The API's base URL, e.g. http://127.0.0.1:6443 */
  api: string;
  namespace: string;
  service: string;
  /** The names of the Service ports the endpoints serve gRPC and HTTP on. */
  grpcPort?: string;
  httpPort?: string;
}

interface SliceEndpoint {
  addresses?: string[];
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
}

interface Slice {
  metadata: { name: string; resourceVersion?: string };
  addressType?: string;
  ports?: Array<{ name?: string; port?: number }>;
  endpoints?: SliceEndpoint[];
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Slice & { code?: number; metadata: { resourceVersion?: string } };
}

const RETRY = { minMs: 100, maxMs: 5000, jitter: 0.1 };

export class SliceEndpoints extends EventEmitter<{ change: [Endpoint[]]; error: [Error] }> implements EndpointSource {
  readonly #options: Required<SliceWatchOptions>;
  readonly #slices = new Map<string, Slice>();
  #endpoints: Endpoint[] = [];
  #key = '';
  #resourceVersion = '';
  #failures = 0;
  #response: IncomingMessage | undefined;
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: SliceWatchOptions) {
    super();
    this.#options = { grpcPort: 'grpc', httpPort: 'http', ...options };
  }

  list(): Endpoint[] {
    return this.#endpoints;
  }

  /** Lists the slices (the first list rejects when it fails), then keeps watching them. */
  async start(): Promise<void> {
    await this.#list();
    this.#watch();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    this.#response?.destroy();
  }

  #path(query: Record<string, string>): string {
    const { namespace, service } = this.#options;
    const params = new URLSearchParams({ labelSelector: `kubernetes.io/service-name=${service}`, ...query });
    return `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/endpointslices?${params}`;
  }

  async #list(): Promise<void> {
    const body = await new Promise<string>((resolve, reject) => {
      const request = get(new URL(this.#path({}), this.#options.api), (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () =>
          response.statusCode === 200 ? resolve(text) : reject(new Error(`HTTP ${response.statusCode}: ${text}`)),
        );
        response.on('error', reject);
      });
      request.on('error', reject);
      request.setTimeout(10_000, () => request.destroy(new Error('no answer within 10 s')));
    });
    const list = JSON.parse(body) as { metadata?: { resourceVersion?: string }; items?: Slice[] };
    this.#slices.clear();
    for (const slice of list.items ?? []) this.#slices.set(slice.metadata.name, slice);
    this.#resourceVersion = list.metadata?.resourceVersion ?? '';
    this.#failures = 0;
    this.#publish();
  }

  #watch(): void {
    if (this.#stopped) return;
    const url = new URL(
      this.#path({ watch: '1', allowWatchBookmarks: 'true', resourceVersion: this.#resourceVersion }),
      this.#options.api,
    );
    const request = get(url, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        this.#failed(new Error(`watch: HTTP ${response.statusCode}`), true);
        return;
      }
      this.#response = response;
      let rest = '';
      let relist = false;
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) if (line.trim() && this.#event(JSON.parse(line) as WatchEvent)) relist = true;
        if (relist) response.destroy();
      });
      response.on('close', () => {
        this.#response = undefined;
        if (this.#stopped) return;
        if (relist) this.#failed(new Error('watch: 410 Gone, the history was compacted'), true);
        else this.#watch(); // the watch's time is up: go on from where it was
      });
    });
    request.on('error', (error) => this.#failed(error, true));
  }

  /** Applies one watch event; true when the watch cannot go on and a new list is needed. */
  #event(event: WatchEvent): boolean {
    const version = event.object.metadata.resourceVersion;
    if (event.type === 'ERROR') return true; // 410 Expired, or any other error: list again
    if (version) this.#resourceVersion = version;
    if (event.type === 'BOOKMARK') return false;
    if (event.type === 'DELETED') this.#slices.delete(event.object.metadata.name);
    else this.#slices.set(event.object.metadata.name, event.object);
    this.#publish();
    return false;
  }

  /** The API failed us: tell, wait, list again, watch again. */
  #failed(error: Error, relist: boolean): void {
    if (this.#stopped) return;
    if (this.listenerCount('error') > 0) this.emit('error', error); // an unheard 'error' would throw
    clearTimeout(this.#retry);
    const delay = backoffMs(Math.min(this.#failures, 10), RETRY, Math.random);
    this.#failures += 1;
    this.#retry = setTimeout(() => {
      const next = relist ? this.#list() : Promise.resolve();
      next.then(
        () => this.#watch(),
        (listError: unknown) => this.#failed(listError as Error, true),
      );
    }, delay).unref();
  }

  #publish(): void {
    const ready = new Map<string, Endpoint>();
    const standIns = new Map<string, Endpoint>();
    for (const slice of this.#slices.values()) {
      if (slice.addressType !== undefined && slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
      const port = (name: string) => slice.ports?.find((p) => p.name === name)?.port;
      const grpcPort = port(this.#options.grpcPort);
      if (grpcPort === undefined) continue;
      const httpPort = port(this.#options.httpPort) ?? 0;
      for (const { addresses, conditions } of slice.endpoints ?? []) {
        const ip = addresses?.[0];
        if (!ip) continue;
        const endpoint = { ip, address: ip, httpPort, grpcPort };
        const isReady = conditions?.ready !== false;
        if (isReady) ready.set(ip, endpoint);
        else if ((conditions?.serving ?? isReady) && conditions?.terminating === true) standIns.set(ip, endpoint);
      }
    }
    const chosen = ready.size > 0 ? ready : standIns;
    const endpoints = [...chosen.values()].sort((a, b) => a.ip.localeCompare(b.ip, 'en', { numeric: true }));
    const key = JSON.stringify(endpoints);
    if (key === this.#key) return;
    this.#key = key;
    this.#endpoints = endpoints;
    this.emit('change', endpoints);
  }
}
