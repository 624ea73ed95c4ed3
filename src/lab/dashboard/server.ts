// The dashboard's web server, on 127.0.0.1: the page, its live feed as server-sent events (/events) and
// the lab's Prometheus metrics (/metrics). It only reads: the page's buttons send their scale and delete
// requests to the lab's Kubernetes API, as kubectl does, and the API trusts this server's origin for them.
// So there is nothing here a foreign page could make it change; a Host that is not this server's is
// still refused (DNS rebinding), so that such a page cannot read the feed either.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listen } from '../../common/listen.js';
import type { LiveFeed } from './feed.js';
import type { LabMetrics } from './metrics.js';
import type { TargetGroup } from './scrape-targets.js';
import type { Hello } from './wire.js';

export interface DashboardContent {
  feed: LiveFeed;
  metrics: LabMetrics;
  /** where the page sends kubectl's requests */
  apiPort: number;
  namespace: string;
  deployment: string;
  maxReplicas: number;
  /** the pods Prometheus should scrape, for its HTTP service discovery */
  targets: () => TargetGroup[];
}

/** The lab's /metrics is rendered at most this often: scrapes in between get the last one (a flood of
 *  scrapes must not take the event loop from the lab's proxies). */
const METRICS_TTL_MS = 500;

/** Open live feeds at once; a page holds one. More get 503, so a flood cannot hold the lab's memory. */
export const MAX_FEEDS = 32;
/** Prometheus' HTTP service discovery: the pods to scrape. */
export const TARGETS = '/prometheus/targets';
/** A feed whose reader stopped reading is cut once this much waits for it. */
const MAX_BUFFERED_BYTES = 1 << 20;

const FILES = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/page.js': ['page.js', 'text/javascript; charset=utf-8'],
  '/page.css': ['page.css', 'text/css; charset=utf-8'],
} as const;

export class Dashboard {
  readonly #server: Server;
  readonly #files = new Map<string, { body: Buffer; type: string }>();
  readonly #feeds = new Set<ServerResponse>();
  #content: DashboardContent | undefined;
  #port = 0;

  constructor(staticDir: string) {
    for (const [path, [file, type]] of Object.entries(FILES))
      this.#files.set(path, { body: readFileSync(`${staticDir}/${file}`), type });
    const answered = new WeakSet<object>();
    // A client must send its request within 10 s (its headers) and 30 s (the whole of it), checked every
    // second: Node's defaults (60 s and 300 s, on a 30 s sweep) let a slowloris hold a connection for
    // minutes. A live view's long answer is not a slow request: these bound only what the client sends.
    this.#server = createServer(
      { headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 1000 },
      (req, res) => {
        answered.add(req.socket);
        this.#handle(req, res);
      },
    );
    this.#server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
      // Bytes that are not HTTP get a 400; on a connection that already had an answer (a body sent
      // after a 405 that closed it, say) or a peer gone, nothing more is said.
      if (answered.has(socket) || !socket.writable || error.code === 'ECONNRESET') return void socket.destroy();
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    });
  }

  async listen(port: number): Promise<number> {
    this.#port = await listen(this.#server, port, '127.0.0.1');
    return this.#port;
  }

  get port(): number {
    return this.#port;
  }

  /** The origins the page is served from: the API lets these scale and delete. */
  get origins(): string[] {
    return [`http://127.0.0.1:${this.#port}`, `http://localhost:${this.#port}`];
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}/`;
  }

  /** Starts serving the lab's state (until then every path but the page answers 503). */
  show(content: DashboardContent): void {
    this.#content = content;
  }

  close(): Promise<void> {
    for (const res of this.#feeds) res.end();
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    req.resume(); // nothing here reads a body: drain it, so that the connection can carry the next request
    const host = req.headers.host?.toLowerCase() ?? '';
    if (host !== `127.0.0.1:${this.#port}` && host !== `localhost:${this.#port}`) {
      return text(
        res,
        403,
        `host ${JSON.stringify(host)} is not this dashboard's (127.0.0.1:${this.#port} or localhost:${this.#port})`,
      );
    }
    const path = (req.url ?? '/').split('?')[0] as string;
    const known = path in FILES || path === '/events' || path === '/metrics' || path === TARGETS;
    if (!known)
      return text(
        res,
        404,
        `no such page: ${path.slice(0, 100)} — the dashboard serves /, /events, /metrics and ${TARGETS}`,
      );
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      res.setHeader('connection', 'close'); // a body may still be on its way
      return text(
        res,
        405,
        `${req.method} is not served here: the dashboard only reads (scale and delete go to the Kubernetes API)`,
      );
    }
    const file = this.#files.get(path);
    if (file) return this.#page(res, file);
    const content = this.#content;
    if (!content) return text(res, 503, 'the lab is starting');
    if (path === '/metrics') {
      this.#metrics(content).then(
        (body) => void res.writeHead(200, { 'content-type': content.metrics.registry.contentType }).end(body),
        (error: unknown) => text(res, 500, `cannot collect the metrics: ${(error as Error).message}`),
      );
      return;
    }
    if (path === TARGETS) {
      return void res
        .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache' })
        .end(JSON.stringify(content.targets()));
    }
    this.#feed(req, res, content);
  }

  #rendered: { at: number; body: Promise<string> } | undefined;

  /** The lab's metrics, rendered once for every scrape within METRICS_TTL_MS. */
  #metrics(content: DashboardContent): Promise<string> {
    const now = performance.now();
    if (!this.#rendered || now - this.#rendered.at > METRICS_TTL_MS) {
      this.#rendered = { at: now, body: content.metrics.registry.metrics() };
    }
    return this.#rendered.body;
  }

  #page(res: ServerResponse, file: { body: Buffer; type: string }): void {
    const api = this.#content
      ? ` http://127.0.0.1:${this.#content.apiPort} http://localhost:${this.#content.apiPort}`
      : '';
    res.writeHead(200, {
      'content-type': file.type,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'content-security-policy': `default-src 'self'; connect-src 'self'${api}; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'`,
    });
    res.end(file.body);
  }

  #feed(req: IncomingMessage, res: ServerResponse, content: DashboardContent): void {
    if (this.#feeds.size >= MAX_FEEDS)
      return text(res, 503, `too many live views open (${MAX_FEEDS}); close one and reload`);
    const { feed } = content;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    if (req.method === 'HEAD') return void res.end();
    this.#feeds.add(res);
    const send = (event: string, data: unknown) => {
      if (res.writableLength > MAX_BUFFERED_BYTES) return void res.destroy();
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    res.write('retry: 2000\n\n');
    const hello: Hello = {
      apiPort: content.apiPort,
      namespace: content.namespace,
      deployment: content.deployment,
      maxReplicas: content.maxReplicas,
      clients: feed.clients,
      history: feed.history,
      pods: feed.pods,
      replicas: feed.deployment,
    };
    send('hello', hello);
    const onPods = (pods: unknown) => send('pods', pods);
    const onDeployment = (deployment: unknown) => send('deployment', deployment);
    const onTick = (tick: unknown) => send('tick', tick);
    feed.on('pods', onPods).on('deployment', onDeployment).on('tick', onTick);
    res.on('close', () => {
      this.#feeds.delete(res);
      feed.off('pods', onPods).off('deployment', onDeployment).off('tick', onTick);
    });
  }
}

function text(res: ServerResponse, status: number, message: string): void {
  res
    .writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' })
    .end(`${message}\n`);
}
