// The mesh: an L7 proxy beside the in-mesh client, as Linkerd's sidecar is. It takes the client's one
// HTTP/2 connection and sends each request (each gRPC call) to a ready endpoint chosen per request
// (round-robin, or Linkerd's p2c-ewma: see balancer.ts), following endpoint changes at once. Status,
// trailers, metadata and the grpc-timeout deadline pass through untouched; when no endpoint can take
// a call it answers UNAVAILABLE, as Linkerd does.
//
// A pod can stop answering without dying (a stopped process, a frozen node): readiness notices only
// after a few probe periods, and calls sent meanwhile would wait out their whole deadline. So the mesh
// PINGs each upstream connection and drops one whose peer does not answer, sets an endpoint that fails
// aside for a while (failure accrual: see failure-accrual.ts), and ends every call at its caller's
// deadline itself, counting that as a failure of the endpoint that did not answer in time.
import { status } from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import {
  connect,
  constants,
  createServer,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { listen } from '../../common/listen.js';
import { balancer as makeBalancer, type Balancer, type BalancerName } from './balancer.js';
import type { Endpoint, Endpoints } from './endpoints.js';
import { FailureAccrual, type AccrualOptions, type Change } from './failure-accrual.js';
import { grpcTimeoutMs } from './grpc-timeout.js';

const { NGHTTP2_CANCEL } = constants;
// Connection-specific headers may not be forwarded on HTTP/2; pseudo-headers are set by node.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);
/** The caller's own timer fires a little before ours (grpc-timeout is what it had left when it sent the call). */
const DEADLINE_SLACK_MS = 100;

function forwardable(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (
      value !== undefined &&
      !HOP_BY_HOP.has(name) &&
      (!name.startsWith(':') || name === ':method' || name === ':path' || name === ':status')
    ) {
      out[name] = value;
    }
  }
  return out;
}

/** An endpoint failed when it sent no answer, a 5xx, or UNAVAILABLE; any other gRPC status is its answer. */
function answered(headers: IncomingHttpHeaders): boolean {
  return Number(headers[':status'] ?? 200) < 500 && Number(headers['grpc-status']) !== status.UNAVAILABLE;
}

export interface MeshOptions {
  balancer?: BalancerName;
  /** A PING on each upstream connection every intervalMs; no answer within timeoutMs → the peer is gone. */
  keepalive?: { intervalMs: number; timeoutMs: number };
  accrual?: Partial<AccrualOptions>;
}

export class MeshProxy extends EventEmitter<{ event: [message: string] }> {
  /** Requests sent to each pod IP so far: what an L7 balancer sees. */
  readonly requests = new Map<string, number>();
  /** Told of each request as it is sent to a pod; what it returns is called when the request ends (metrics). */
  onRequest: ((ip: string) => () => void) | undefined;
  readonly #server: Http2Server;
  readonly #sessions = new Map<string, ClientHttp2Session>();
  readonly #endpoints: Endpoints;
  readonly #balancer: Balancer;
  readonly #accrual: FailureAccrual;
  readonly #keepalive: { intervalMs: number; timeoutMs: number };
  /** Per pod IP, the requests sent since its last response: what a silent pod swallowed. */
  readonly #unanswered = new Map<string, number>();
  /** Once closing, the calls cut short tell nothing about the pods. */
  #closing = false;

  constructor(endpoints: Endpoints, options: MeshOptions = {}) {
    super();
    this.#endpoints = endpoints;
    this.#balancer = makeBalancer(options.balancer ?? 'round-robin');
    this.#accrual = new FailureAccrual(options.accrual);
    // A PING every half second, an answer within 1 s: the readiness probe's own timeout.
    this.#keepalive = options.keepalive ?? { intervalMs: 500, timeoutMs: 1000 };
    this.#server = createServer();
    this.#server.on('stream', (stream, headers) => this.#forward(stream, headers));
    this.#server.on('sessionError', () => undefined);
    endpoints.on('change', (ready) => {
      // A pod that left the endpoints gets no new requests; its calls in flight finish, then the
      // connection closes (close() lets open streams complete).
      const readyIps = new Set(ready.map((e) => e.ip));
      for (const [ip, session] of this.#sessions) {
        if (!readyIps.has(ip)) {
          this.#sessions.delete(ip);
          session.close();
        }
      }
      for (const ip of this.#unanswered.keys()) {
        if (!readyIps.has(ip)) {
          this.#unanswered.delete(ip);
          this.#accrual.forget(ip);
        }
      }
    });
  }

  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return listen(this.#server, port, host);
  }

  close(): Promise<void> {
    this.#closing = true;
    for (const session of this.#sessions.values()) session.destroy();
    this.#sessions.clear();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #sessionTo(endpoint: Endpoint): ClientHttp2Session {
    const existing = this.#sessions.get(endpoint.ip);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const session = connect(`http://${endpoint.address}:${endpoint.grpcPort}`);
    const forget = () => {
      if (this.#sessions.get(endpoint.ip) === session) this.#sessions.delete(endpoint.ip);
    };
    session.on('error', forget);
    session.on('goaway', forget);
    session.on('close', forget);
    this.#sessions.set(endpoint.ip, session);
    this.#keepAlive(session, endpoint.ip);
    return session;
  }

  /** PINGs the connection at once, then every intervalMs; a peer that does not answer in time is gone. */
  #keepAlive(session: ClientHttp2Session, ip: string): void {
    const { intervalMs, timeoutMs } = this.#keepalive;
    let next: NodeJS.Timeout | undefined;
    // unref(): the PINGs watch a connection, they are no reason to keep a process alive
    let deadline = setTimeout(
      () => this.#silent(session, ip, `no connection within ${timeoutMs} ms`),
      timeoutMs,
    ).unref();
    const ping = () => {
      if (session.destroyed) return; // destroyed, its 'close' still to come
      deadline = setTimeout(
        () => this.#silent(session, ip, `no answer to a PING within ${timeoutMs} ms`),
        timeoutMs,
      ).unref();
      const sent = session.ping((error) => {
        clearTimeout(deadline);
        if (!error) next = setTimeout(ping, intervalMs).unref();
      });
      if (!sent) clearTimeout(deadline);
    };
    session.once('connect', () => {
      clearTimeout(deadline);
      ping();
    });
    session.once('close', () => {
      clearTimeout(deadline);
      clearTimeout(next);
    });
  }

  /** The peer went silent: its endpoint is failing, and the calls on the connection end UNAVAILABLE. */
  #silent(session: ClientHttp2Session, ip: string, why: string): void {
    if (session.destroyed) return;
    this.#report(ip, this.#accrual.trip(ip), why);
    session.destroy(new Error(`${ip} went silent: ${why}`));
  }

  /** Tells what a call's outcome changed; `why` says what went wrong when the endpoint went silent. */
  #report(ip: string, change: Change | undefined, why = ''): void {
    if (change?.state === 'tripped') {
      const unanswered = this.#unanswered.get(ip) ?? 0;
      const cause = { silent: why, probe: 'failed its probe', failures: `failed ${change.failures} calls in a row` }[
        change.cause
      ];
      this.emit(
        'event',
        `mesh: ${ip} ${cause}: out of the balancer for ${(change.forMs / 1000).toFixed(1)} s ` +
          `(${unanswered} request${unanswered === 1 ? '' : 's'} sent since its last response)`,
      );
    } else if (change?.state === 'recovered') {
      this.emit('event', `mesh: ${ip} answered its probe: back in the balancer`);
    }
  }

  #forward(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', () => undefined);
    const ready = this.#endpoints.list();
    const endpoint = this.#balancer.pick(ready.filter((e) => this.#accrual.available(e.ip)));
    if (!endpoint) {
      const why =
        ready.length === 0
          ? 'no ready endpoints for the service'
          : `all ${ready.length} endpoints are failing (failure accrual)`;
      answer(stream, status.UNAVAILABLE, why);
      return;
    }
    const { ip } = endpoint;
    this.requests.set(ip, (this.requests.get(ip) ?? 0) + 1);
    this.#unanswered.set(ip, (this.#unanswered.get(ip) ?? 0) + 1);
    const probe = this.#accrual.sent(ip);
    const arrived = performance.now();
    const timeoutMs = grpcTimeoutMs(headers['grpc-timeout']);

    let outcome: 'success' | 'failure' | 'cancelled' | undefined;
    const settle = (result: 'success' | 'failure' | 'cancelled') => {
      if (outcome || this.#closing) return;
      outcome = result;
      this.#report(ip, this.#accrual.record(ip, result, probe));
    };

    let upstream: ClientHttp2Stream;
    try {
      upstream = this.#sessionTo(endpoint).request(forwardable(headers));
    } catch (error) {
      settle('failure');
      answer(stream, status.UNAVAILABLE, `cannot reach ${ip}: ${(error as Error).message}`);
      return;
    }
    let trailers: Record<string, string | string[]> | undefined;
    /** Ends the caller's call with `code` whatever the upstream has sent so far, and drops the upstream. */
    const end = (code: status, message: string) => {
      if (!upstream.closed) upstream.close(NGHTTP2_CANCEL);
      if (!stream.headersSent) answer(stream, code, message);
      else if (!stream.destroyed && !stream.writableEnded) {
        trailers = { 'grpc-status': String(code), 'grpc-message': grpcMessage(message) };
        upstream.unpipe(stream);
        stream.end();
      }
    };

    const deadline =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            settle('failure');
            end(status.DEADLINE_EXCEEDED, `deadline exceeded: ${ip} did not answer within ${timeoutMs} ms`);
          }, timeoutMs);
    const finished = this.#balancer.started(endpoint);
    upstream.once('close', () => {
      clearTimeout(deadline);
      finished();
    });
    const observed = this.onRequest?.(endpoint.ip);
    if (observed) upstream.once('close', observed);

    upstream.on('response', (response, flags) => {
      this.#unanswered.set(ip, 0);
      if (stream.destroyed) return;
      if (flags & constants.NGHTTP2_FLAG_END_STREAM) {
        settle(answered(response) ? 'success' : 'failure');
        stream.respond(forwardable(response), { endStream: true }); // trailers-only response
      } else {
        if (!answered(response)) settle('failure');
        stream.respond(forwardable(response), { waitForTrailers: true });
      }
    });
    upstream.on('trailers', (received) => {
      trailers = forwardable(received);
      settle(answered(received) ? 'success' : 'failure');
    });
    stream.on('wantTrailers', () =>
      stream.sendTrailers(
        trailers ?? { 'grpc-status': String(status.INTERNAL), 'grpc-message': 'upstream ended without trailers' },
      ),
    );
    upstream.pipe(stream, { end: false }); // with backpressure; the end is ours to send, after the trailers
    upstream.on('end', () => {
      if (stream.headersSent && !stream.destroyed && !stream.writableEnded) stream.end();
    });
    upstream.on('error', (error) => {
      settle('failure');
      end(status.UNAVAILABLE, error.message.startsWith(ip) ? error.message : `${ip}: ${error.message}`);
    });
    upstream.on('close', () => {
      if (!outcome) settle('failure');
      if (!stream.headersSent && !stream.destroyed) answer(stream, status.UNAVAILABLE, `${ip} closed the stream`);
    });

    stream.pipe(upstream);
    stream.on('close', () => {
      clearTimeout(deadline);
      if (!outcome) {
        // The caller went away first: at its deadline, the endpoint did not answer in time; before it, it chose to.
        const late = timeoutMs !== undefined && performance.now() - arrived >= timeoutMs - DEADLINE_SLACK_MS;
        settle(late ? 'failure' : 'cancelled');
      }
      if (!upstream.closed) upstream.close(NGHTTP2_CANCEL);
    });
  }
}

/** A trailers-only gRPC response: `code` with a reason. */
function answer(stream: ServerHttp2Stream, code: status, message: string): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': String(code),
      'grpc-message': grpcMessage(message),
    },
    { endStream: true },
  );
}

/** grpc-message is percent-encoded, but only outside printable ASCII and for '%' itself (gRPC over HTTP/2). */
function grpcMessage(text: string): string {
  return text.replace(/[^\x20-\x24\x26-\x7e]/gu, (char) => encodeURIComponent(char));
}
