// addr-server's Prometheus metrics, served on the HTTP port at /metrics: requests by protocol, method
// and status code, requests in flight, latency, whether the pod is serving or draining, and the faults
// it was told to play — every series labelled with the pod, so that a scrape of each pod (or a
// port-forward and curl) shows who took the traffic. Label values are bounded: gRPC methods are the
// registered ones (grpc-js answers unknown methods before any handler or interceptor), HTTP methods
// Node's known set, HTTP paths the app's routes.
//
// What a request changes is kept in plain numbers, one CallTally per protocol and method, and handed to
// prom-client only when /metrics is scraped: prom-client hashes the label set of every observation,
// which costs more than answering GetAddr does. A tally is looked up once (GetAddr's at start), and a
// call then costs a few additions, with nothing allocated.
import * as grpc from '@grpc/grpc-js';
import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';
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
) as Record<number, string>;

const DURATION = 'addr_server_request_duration_seconds';

/** The calls of one method on one protocol: in flight, answered by code, and their durations. */
export class CallTally {
  inFlight = 0;
  /** answered with OK (gRPC) or 200 (HTTP): the common case, kept out of the map */
  ok = 0;
  readonly otherCodes = new Map<string, number>();
  /** per bucket of BUCKETS (not cumulative), then the ones above the last */
  readonly buckets = new Float64Array(BUCKETS.length + 1);
  seconds = 0;
  readonly labels: { protocol: Protocol; method: string };
  readonly okCode: string;

  constructor(protocol: Protocol, method: string) {
    this.labels = { protocol, method };
    this.okCode = protocol === 'grpc' ? 'OK' : '200';
  }

  /** A call begins; returns its start time, for end(). */
  begin(): number {
    this.inFlight += 1;
    return performance.now();
  }

  /** The call that began at `startedAt` was answered with `code` (a gRPC status name, an HTTP status). */
  end(startedAt: number, code: string): void {
    const seconds = (performance.now() - startedAt) / 1000;
    this.inFlight -= 1;
    if (code === this.okCode) this.ok += 1;
    else this.otherCodes.set(code, (this.otherCodes.get(code) ?? 0) + 1);
    this.#observe(seconds);
  }

  #observe(seconds: number): void {
    let bucket = 0;
    while (bucket < BUCKETS.length && seconds > (BUCKETS[bucket] as number)) bucket += 1;
    this.buckets[bucket] = (this.buckets[bucket] as number) + 1;
    this.seconds += seconds;
  }

  /** end() with OK (gRPC) or 200 (HTTP). */
  endOk(startedAt: number): void {
    const seconds = (performance.now() - startedAt) / 1000;
    this.inFlight -= 1;
    this.ok += 1;
    this.#observe(seconds);
  }

  /** end() for gRPC, from a status code number. */
  endGrpc(startedAt: number, code: grpc.status): void {
    this.end(startedAt, STATUS_NAMES[code] ?? String(code));
  }
}

export class ServerMetrics {
  readonly registry = new Registry();
  readonly #tallies = new Map<string, CallTally>();

  constructor(pod: PodIdentity, drain: DrainState, faults: FaultOptions) {
    const registers = [this.registry];
    const tallies = () => this.#tallies.values();
    const counted = new Map<string, number>(); // what the counter has already been told, per series
    this.registry.setDefaultLabels({ pod: pod.name, pod_ip: pod.ip });
    new Counter({
      name: 'addr_server_requests_total',
      help: 'Requests answered, by protocol, method (gRPC: service/method; HTTP: method and route) and status code',
      labelNames: ['protocol', 'method', 'code'],
      registers,
      collect() {
        for (const tally of tallies()) {
          for (const [code, count] of [[tally.okCode, tally.ok] as const, ...tally.otherCodes]) {
            if (count === 0) continue;
            const key = `${tally.labels.protocol} ${tally.labels.method} ${code}`;
            this.inc({ ...tally.labels, code }, count - (counted.get(key) ?? 0));
            counted.set(key, count);
          }
        }
      },
    });
    new Gauge({
      name: 'addr_server_requests_in_flight',
      help: 'Requests being answered now',
      labelNames: ['protocol'],
      registers,
      collect() {
        const inFlight = { http: 0, grpc: 0 };
        for (const tally of tallies()) inFlight[tally.labels.protocol] += tally.inFlight;
        for (const protocol of ['http', 'grpc'] as const) this.set({ protocol }, inFlight[protocol]);
      },
    });
    this.registry.registerMetric(durationHistogram(tallies));
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

  /** The tally of one method's calls (the same object every time: look it up once where calls are hot). */
  tally(protocol: Protocol, method: string): CallTally {
    const key = `${protocol} ${method}`;
    let tally = this.#tallies.get(key);
    if (!tally) this.#tallies.set(key, (tally = new CallTally(protocol, method)));
    return tally;
  }

  /** Express middleware: every HTTP request, labelled with its route (or "other"). */
  http(routes: readonly string[]): RequestHandler {
    return (req, res, next) => {
      const tally = this.tally('http', `${req.method} ${routes.includes(req.path) ? req.path : 'other'}`);
      const startedAt = tally.begin();
      res.once('close', () => tally.end(startedAt, res.writableFinished ? String(res.statusCode) : 'aborted'));
      next();
    };
  }

  /**
   * A grpc-js server interceptor that counts the calls to every registered method, with their status
   * code's name — except `own`: methods that count their calls themselves, in their handlers, which
   * costs far less than an intercepting call per call (see grpc.ts).
   */
  grpc(own: readonly string[]): grpc.ServerInterceptor {
    return (method, call) => {
      // Passing the call on as it is: grpc-js chains interceptors through the interface only
      // (server-interceptors.ts, getServerInterceptingCall), whatever the declared return type says.
      if (own.includes(method.path)) return call as grpc.ServerInterceptingCall;
      const tally = this.tally('grpc', method.path.slice(1));
      const startedAt = tally.begin();
      let ended = false;
      const end = (code: grpc.status) => {
        if (ended) return;
        ended = true;
        tally.endGrpc(startedAt, code);
      };
      return new grpc.ServerInterceptingCall(call, {
        start: (next) => next({ onCancel: () => end(grpc.status.CANCELLED) }),
        sendStatus: (status, next) => {
          end(status.code);
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

/**
 * addr_server_request_duration_seconds, written from the tallies' buckets at each scrape. prom-client's
 * registry writes any registered metric from what its get() returns (registry.js, getMetricsAsString);
 * this one returns the series prom-client's own Histogram would, from counts kept without it.
 */
function durationHistogram(tallies: () => Iterable<CallTally>): Metric {
  const histogram = {
    name: DURATION,
    help: 'Time from a request (its message received) to its answer',
    type: 'histogram',
    aggregator: 'sum',
    get() {
      const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
      for (const tally of tallies()) {
        // a series appears with its first answer, as with prom-client's own Histogram
        if (tally.buckets.every((count) => count === 0)) continue;
        let cumulative = 0;
        BUCKETS.forEach((le, i) => {
          cumulative += tally.buckets[i] as number;
          values.push({ labels: { ...tally.labels, le }, value: cumulative, metricName: `${DURATION}_bucket` });
        });
        cumulative += tally.buckets[BUCKETS.length] as number;
        values.push({ labels: { ...tally.labels, le: '+Inf' }, value: cumulative, metricName: `${DURATION}_bucket` });
        values.push({ labels: tally.labels, value: tally.seconds, metricName: `${DURATION}_sum` });
        values.push({ labels: tally.labels, value: cumulative, metricName: `${DURATION}_count` });
      }
      return Promise.resolve({ name: DURATION, help: histogram.help, type: histogram.type, aggregator: 'sum', values });
    },
  };
  return histogram as unknown as Metric;
}
