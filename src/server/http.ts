// The HTTP side of addr-server: GET /addr answers the pod IP, GET /health answers OK while serving,
// GET /metrics the Prometheus metrics.
import express, { type ErrorRequestHandler } from 'express';
import { createServer, type Server } from 'node:http';
import type { PodIdentity } from './identity.js';
import type { ServerMetrics } from './metrics.js';

export interface HttpOptions {
  pod: PodIdentity;
  delayMs: number;
  /** false once the server is shutting down: /health answers 503 and connections are not kept. */
  serving: () => boolean;
  metrics: ServerMetrics;
}

const ROUTES = ['/addr', '/health', '/metrics'] as const;

export function createHttpServer({ pod, delayMs, serving, metrics }: HttpOptions): Server {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');

  app.use(metrics.http(ROUTES));

  app.use((_req, res, next) => {
    if (!serving()) res.set('Connection', 'close');
    next();
  });
  app.get('/addr', (_req, res) => {
    const answer = () => res.type('text/plain').send(pod.ip);
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  });
  app.get('/health', (_req, res) => {
    if (serving()) res.type('text/plain').send('OK');
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

  // A client must send its request headers within 10 s and the whole request within 15 s (Node's
  // defaults, 60 s and 300 s, let a slowloris hold a connection for a minute and more).
  return createServer({ headersTimeout: 10_000, requestTimeout: 15_000 }, app);
}
