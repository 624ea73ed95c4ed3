// addr-server's Prometheus metrics, served on the HTTP port at /metrics: requests by protocol, method
// and status code, requests in flight, latency, and whether the pod is serving or draining — every
// series labelled with the pod, so that a scrape of each pod (or a port-forward and curl) shows who
// took the traffic. Label values are bounded: gRPC methods are the registered ones (grpc-js answers
// unknown methods before any interceptor), HTTP methods Node's known set, HTTP paths the app's routes.
import * as grpc from '@grpc/grpc-js';
import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PodIdentity } from './identity.js';

export type Protocol = 'http' | 'grpc';

// Calls here take well under a millisecond; the buckets reach the grace period's seconds.
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STATUS_NAMES = Object.fromEntries(Object.entries(grpc.status).filter(([, code]) => typeof code === 'number').map(([name, code]) => [code, name]));

export class ServerMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'protocol' | 'method' | 'code'>;
  readonly #inFlight: Gauge<'protocol'>;
  readonly #duration: Histogram<'protocol' | 'method'>;
  readonly #serving: Gauge;

  constructor(pod: PodIdentity) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ pod: pod.name, pod_ip: pod.ip });
    this.#requests = new Counter({ name: 'addr_server_requests_total', help: 'Requests answered, by protocol, method (gRPC: service/method; HTTP: method and route) and status code', labelNames: ['protocol', 'method', 'code'], registers });
    this.#inFlight = new Gauge({ name: 'addr_server_requests_in_flight', help: 'Requests being answered now', labelNames: ['protocol'], registers });
    this.#duration = new Histogram({ name: 'addr_server_request_duration_seconds', help: 'Time from a request to its answer', labelNames: ['protocol', 'method'], buckets: BUCKETS, registers });
    this.#serving = new Gauge({ name: 'addr_server_serving', help: '1 while serving, 0 while draining after SIGTERM (health says not serving)', registers });
    this.#serving.set(1);
    for (const protocol of ['http', 'grpc'] as const) this.#inFlight.set({ protocol }, 0);
    collectDefaultMetrics({ register: this.registry });
  }

  setServing(serving: boolean): void {
    this.#serving.set(serving ? 1 : 0);
  }

  /** Counts a request from now; the function returned records its end (once). */
  begin(protocol: Protocol, method: string): (code: string) => void {
    this.#inFlight.inc({ protocol });
    const end = this.#duration.startTimer({ protocol, method });
    let done = false;
    return (code) => {
      if (done) return;
      done = true;
      end();
      this.#inFlight.dec({ protocol });
      this.#requests.inc({ protocol, method, code });
    };
  }

  /** Express middleware: every HTTP request, labelled with its route (or "other"). */
  http(routes: readonly string[]): RequestHandler {
    return (req, res, next) => {
      const route = routes.includes(req.path) ? req.path : 'other';
      const end = this.begin('http', `${req.method} ${route}`);
      res.on('finish', () => end(String(res.statusCode)));
      res.on('close', () => end(res.writableFinished ? String(res.statusCode) : 'aborted'));
      next();
    };
  }

  /** A grpc-js server interceptor: every call to a registered method, with its status code's name. */
  grpc(): grpc.ServerInterceptor {
    return (method, call) => {
      const end = this.begin('grpc', method.path.replace(/^\//, ''));
      return new grpc.ServerInterceptingCall(call, {
        start: (next) => next({ onCancel: () => end('CANCELLED') }),
        sendStatus: (status, next) => {
          end(STATUS_NAMES[status.code] ?? String(status.code));
          next(status);
        },
      });
    };
  }

  /** GET /metrics */
  serve(): RequestHandler {
    return (_req, res, next) => {
      this.registry.metrics().then((text) => res.type(this.registry.contentType).send(text), next);
    };
  }
}
