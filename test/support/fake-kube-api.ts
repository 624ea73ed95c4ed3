// A minimal Kubernetes API for the EndpointSlice resolver's tests: list and watch of endpointslices in a
// namespace (label selector, resourceVersion, replay, 410 Gone), and the faults a real API shows: a watch
// cut off, history compacted, the API gone and back. Plain HTTP on 127.0.0.1 (the kubeconfig it writes
// says insecure-skip-tls-verify, without which @kubernetes/client-node refuses http://).
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface SliceSpec {
  name: string;
  service: string;
  namespace?: string;
  port: { name?: string; port: number };
  endpoints: Array<{ ip: string; ready?: boolean; serving?: boolean; terminating?: boolean }>;
}

type Slice = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';
interface Watcher {
  namespace: string;
  selector: Record<string, string>;
  res: ServerResponse;
}

const path = /^\/apis\/discovery\.k8s\.io\/v1\/namespaces\/([^/]+)\/endpointslices$/;

export class FakeKubeApi {
  readonly slices = new Map<string, Slice>();
  /** Requests served, to show that the client listed again or resumed its watch. */
  readonly counts = { lists: 0, watches: 0, gone: 0 };
  /** Holds each watch's response headers this long: a watch still being opened when the client stops. */
  watchHeadersDelayMs = 0;
  private resourceVersion = 1;
  private history: Array<{ rv: number; type: EventType; object: Slice }> = [];
  /** Watches from before this resourceVersion get 410 Gone, as after an etcd compaction. */
  private oldestWatchable = 0;
  private readonly watchers = new Set<Watcher>();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;

  constructor(readonly port: number) {}

  get listening(): boolean {
    return this.server !== undefined;
  }

  async listen(): Promise<void> {
    this.server = createServer((req, res) => this.serve(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server.listen(this.port, '127.0.0.1');
    await once(this.server, 'listening');
  }

  /** Stops answering: every connection dropped, the port closed (the API unreachable). */
  async close(): Promise<void> {
    if (!this.server) return;
    const closed = once(this.server, 'close');
    this.server.close();
    this.cutWatches();
    this.sockets.forEach((socket) => socket.destroy());
    await closed;
    this.server = undefined;
  }

  writeKubeconfig(file: string, namespace = 'grpc-lb'): void {
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `  - name: fake\n    cluster:\n      server: http://127.0.0.1:${this.port}\n      insecure-skip-tls-verify: true`,
        'users:',
        '  - name: fake\n    user:\n      token: fake-token',
        'contexts:',
        `  - name: fake\n    context:\n      cluster: fake\n      user: fake\n      namespace: ${namespace}`,
        'current-context: fake',
        '',
      ].join('\n'),
    );
  }

  /** Creates or replaces a slice; `silently`: no watch hears of it (an event lost to compaction). */
  apply(spec: SliceSpec, { silently = false } = {}): void {
    const namespace = spec.namespace ?? 'grpc-lb';
    const key = `${namespace}/${spec.name}`;
    const type = this.slices.has(key) ? 'MODIFIED' : 'ADDED';
    const object = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: spec.name,
        namespace,
        labels: { 'kubernetes.io/service-name': spec.service },
        resourceVersion: String(++this.resourceVersion),
      },
      addressType: 'IPv4',
      ports: [{ ...spec.port, protocol: 'TCP' }],
      endpoints: spec.endpoints.map(({ ip, ...conditions }) => ({ addresses: [ip], conditions })),
    };
    this.slices.set(key, object);
    if (!silently) this.emit(type, object);
  }

  remove(name: string, namespace = 'grpc-lb'): void {
    const object = this.slices.get(`${namespace}/${name}`);
    if (!object) throw new Error(`no slice ${namespace}/${name}`);
    this.slices.delete(`${namespace}/${name}`);
    const deleted = structuredClone(object);
    deleted.metadata.resourceVersion = String(++this.resourceVersion);
    this.emit('DELETED', deleted);
  }

  /** Drops every open watch connection, as a network fault or an API restart does. */
  cutWatches(): void {
    for (const watcher of this.watchers) watcher.res.destroy();
    this.watchers.clear();
  }

  /** Forgets the history: a watch resumed from any resourceVersion seen so far gets 410 Gone. */
  compact(): void {
    this.history = [];
    this.oldestWatchable = this.resourceVersion + 1;
  }

  private emit(type: EventType, object: Slice): void {
    const rv = Number(object.metadata.resourceVersion);
    this.history.push({ rv, type, object });
    for (const watcher of this.watchers) {
      if (this.matches(object, watcher.namespace, watcher.selector)) watcher.res.write(`${JSON.stringify({ type, object })}\n`);
    }
  }

  private matches(object: Slice, namespace: string, selector: Record<string, string>): boolean {
    return object.metadata.namespace === namespace && Object.entries(selector).every(([k, v]) => object.metadata.labels[k] === v);
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://api');
    const match = path.exec(url.pathname);
    if (req.method !== 'GET' || !match) return status(res, 404, 'NotFound', `the server could not find ${url.pathname}`);
    const namespace = decodeURIComponent(match[1] ?? '');
    const selector = Object.fromEntries(
      (url.searchParams.get('labelSelector') ?? '').split(',').filter(Boolean).map((term) => term.split('=') as [string, string]),
    );
    if (url.searchParams.get('watch') !== 'true') {
      this.counts.lists += 1;
      const items = [...this.slices.values()].filter((slice) => this.matches(slice, namespace, selector));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSliceList', metadata: { resourceVersion: String(this.resourceVersion) }, items }));
      return;
    }
    this.counts.watches += 1;
    if (this.watchHeadersDelayMs > 0) {
      setTimeout(() => this.watch(url, namespace, selector, res), this.watchHeadersDelayMs);
    } else {
      this.watch(url, namespace, selector, res);
    }
  }

  private watch(url: URL, namespace: string, selector: Record<string, string>, res: ServerResponse): void {
    if (res.destroyed) return;
    const from = Number(url.searchParams.get('resourceVersion') || this.resourceVersion);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    if (from < this.oldestWatchable - 1) {
      // What the API server does: 200, then one ERROR event carrying a 410 Status, then the end.
      this.counts.gone += 1;
      const gone = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410, message: `too old resource version: ${from}` };
      res.end(`${JSON.stringify({ type: 'ERROR', object: gone })}\n`);
      return;
    }
    for (const { rv, type, object } of this.history) {
      if (rv > from && this.matches(object, namespace, selector)) res.write(`${JSON.stringify({ type, object })}\n`);
    }
    const watcher = { namespace, selector, res };
    this.watchers.add(watcher);
    res.on('close', () => this.watchers.delete(watcher));
  }
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code }));
}
