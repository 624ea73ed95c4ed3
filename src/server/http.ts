// The HTTP side of addr-server: GET /addr answers the pod IP, GET /health answers OK while serving,
// GET /metrics the Prometheus metrics.
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { createServer, type Server } from 'node:http';
import type { DrainState } from './drain.js';
import { HTTP_STATUS, type Faults } from './faults.js';
import type { PodIdentity } from './identity.js';
import type { ServerMetrics } from './metrics.js';

export interface HttpOptions {
  pod: PodIdentity;
  faults: Faults;
  /** once draining, /health answers 503 and connections are not kept */
  drain: DrainState;
  metrics: ServerMetrics;
}

const ROUTES = ['/addr', '/health', '/metrics'] as const;

/** A client must send its request headers within 10 s, and the whole request within 15 s (Node's
 *  defaults, 60 s and 300 s, let a slowloris hold a connection for a minute and more)… */
export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 15_000;
/** …and Node checks these only on a sweep, every connectionsCheckingInterval (30 s by default), so that
 *  a slowloris was closed 10 to 40 s in. A sweep each second makes the bounds hold to about a second. */
export const TIMEOUTS_CHECKED_EVERY_MS = 1000;

export function createHttpServer({ pod, faults, drain, metrics }: HttpOptions): Server {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');

  app.use(metrics.http(ROUTES));

  app.use((_req, res, next) => {
    if (!drain.serving) res.set('Connection', 'close');
    next();
  });
  app.get('/addr', faults.any ? addrWithFaults(pod, faults) : (_req, res) => void res.type('text/plain').send(pod.ip));
  app.get('/health', (_req, res) => {
    if (drain.serving) res.type('text/plain').send('OK');
    else res.status(503).type('text/plain').send('shutting down');
  });
  app.get('/metrics', metrics.serve());
  app.all([...ROUTES], (_req, res) => {
    res.set('Allow', 'GET, HEAD').status(405).type('text/plain').send('Method Not Allowed');
  });
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('Not Found');
  });
  const onError: ErrorRequestHandler = (error: { status?: number }, _req, res, _next) => {
    const status = typeof error.status === 'number' && error.status >= 400 && error.status < 600 ? error.status : 500;
    res
      .status(status)
      .type('text/plain')
      .send(status < 500 ? 'Bad Request' : 'Internal Server Error');
  };
  app.use(onError);

  return createServer(
    {
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: TIMEOUTS_CHECKED_EVERY_MS,
    },
    app,
  );
}

/** GET /addr as a slow or failing pod answers it: a failure at once, else the answer after the delay. */
function addrWithFaults(pod: PodIdentity, faults: Faults): RequestHandler {
  const { failCode } = faults.options;
  const failure = `${failCode}: a fault this server was told to play (--fail-percent)\n`;
  return (_req, res) => {
    if (faults.fails()) {
      res.status(HTTP_STATUS[failCode]).type('text/plain').send(failure);
      return;
    }
    const delayMs = faults.delayMs();
    if (delayMs > 0) setTimeout(() => res.type('text/plain').send(pod.ip), delayMs);
    else res.type('text/plain').send(pod.ip);
  };
}
