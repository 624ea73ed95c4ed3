// addr-server's Prometheus metrics, served on the HTTP port at /metrics: requests by protocol, method
// and status code, requests in flight, latency, whether the pod is serving or draining, and the faults
// it was told to play — every
// series labelled with the pod, so that a scrape of each pod (or a port-forward and curl) shows who
// took the traffic. Label values are bounded: gRPC methods are the registered ones (grpc-js answers
// unknown methods before any interceptor), HTTP methods Node's known set, HTTP paths the app's routes.
import * as grpc from '@grpc/grpc-js';
import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DrainState } from './drain.js';
import type { FaultOptions } from './faults.js';
import type { PodIdentity } from './identity.js';

export type Protocol = 'http' | 'grpc';

// Calls here take well under a millisecond; the buckets reach the grace period's seconds.
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STATUS_NAMES = Object.fromEntries(
  Object.entries(grpc.status)
    .filter(([, code]) => typeof code === 'number')
    .map(([name, code]) => [code, name]),
);

export class ServerMetrics {
  readonly registry = new Registry();
  // What each request changes is kept in plain numbers and handed to prom-client when it is scraped:
  // its per-call label hashing would cost more than the call itself here. Only the latency goes
  // through prom-client per request.
  readonly #answered = new Map<string, { labels: Record<'protocol' | 'method' | 'code', string>; count: number }>();
  readonly #inFlight = { http: 0, grpc: 0 };
  readonly #duration: Histogram<'protocol' | 'method'>;
  readonly #durationLabels = new Map<string, Record<'protocol' | 'method', string>>();

  constructor(pod: PodIdentity, drain: DrainState, faults: FaultOptions) {
    const registers = [this.registry];
    const answered = this.#answered;
    const inFlight = this.#inFlight;
    const counted = new Map<string, number>(); // what the counter has already been told, per series
    this.registry.setDefaultLabels({ pod: pod.name, pod_ip: pod.ip });
    new Counter({
      name: 'addr_server_requests_total',
      help: 'Requests answered, by protocol, method (gRPC: service/method; HTTP: method and route) and status code',
      labelNames: ['protocol', 'method', 'code'],
      registers,
      collect() {
        for (const [key, { labels, count }] of answered) {
          this.inc(labels, count - (counted.get(key) ?? 0));
          counted.set(key, count);
        }
      },
    });
    new Gauge({
      name: 'addr_server_requests_in_flight',
      help: 'Requests being answered now',
      labelNames: ['protocol'],
      registers,
      collect() {
        for (const protocol of ['http', 'grpc'] as const) this.set({ protocol }, inFlight[protocol]);
      },
    });
    this.#duration = new Histogram({
      name: 'addr_server_request_duration_seconds',
      help: 'Time from a request to its answer',
      labelNames: ['protocol', 'method'],
      buckets: BUCKETS,
      registers,
    });
    new Gauge({
      name: 'addr_server_serving',
      help: '1 while serving, 0 while draining after SIGTERM (health says not serving)',
      registers,
      collect() {
        this.set(drain.serving ? 1 : 0);
      },
    });
    // The faults as set (they do not change while the server runs); 0 when off.
    new Gauge({
      name: 'addr_server_fault_delay_seconds',
      help: 'Fixed delay before every /addr and GetAddr answer (--delay-ms)',
      registers,
    }).set(faults.delayMs / 1000);
    new Gauge({
      name: 'addr_server_fault_delay_jitter_seconds',
      help: 'Mean of the exponentially distributed extra delay on top of it (--delay-jitter-ms)',
      registers,
    }).set(faults.delayJitterMs / 1000);
    new Gauge({
      name: 'addr_server_fault_fail_ratio',
      help: 'Share of /addr and GetAddr answers that fail at once (--fail-percent / 100), with the gRPC code they carry',
      labelNames: ['code'],
      registers,
    }).set({ code: faults.failCode }, faults.failPercent / 100);
    collectDefaultMetrics({ register: this.registry });
  }

  /** Counts a request from now; the function returned records its end (once). */
  begin(protocol: Protocol, method: string): (code: string) => void {
    this.#inFlight[protocol] += 1;
    const start = performance.now();
    let done = false;
    return (code) => {
      if (done) return;
      done = true;
      this.#inFlight[protocol] -= 1;
      const series = `${protocol} ${method}`;
      let labels = this.#durationLabels.get(series);
      if (!labels) this.#durationLabels.set(series, (labels = { protocol, method }));
      this.#duration.observe(labels, (performance.now() - start) / 1000);
      const key = `${series} ${code}`;
      const answered = this.#answered.get(key);
      if (answered) answered.count += 1;
      else this.#answered.set(key, { labels: { protocol, method, code }, count: 1 });
    };
  }

  /** Express middleware: every HTTP request, labelled with its route (or "other"). */
  http(routes: readonly string[]): RequestHandler {
    return (req, res, next) => {
      const route = routes.includes(req.path) ? req.path : 'other';
      const end = this.begin('http', `${req.method} ${route}`);
      res.once('close', () => end(res.writableFinished ? String(res.statusCode) : 'aborted'));
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
