// The mesh's connections to the pods, as linkerd2-proxy keeps them: one HTTP/2 connection per endpoint
// (linkerd/proxy/http/src/client.rs:85-89, h2.rs:23-26), opened as soon as the endpoint appears and
// opened again after it is lost (linkerd/reconnect/src/lib.rs), with
//   - a connect timeout, 1 s (linkerd/app/src/env.rs:303, DEFAULT_OUTBOUND_CONNECT_TIMEOUT);
//   - a backoff between attempts, 100 ms doubling up to 60 s with 10 % jitter (env.rs:304-305), started
//     afresh when a connection that was up is lost;
//   - HTTP/2 PINGs, for meshed pods every 10 s with 3 s to answer, even with no call open (the
//     destination controller's meshedHttp2ClientProtobuf, linkerd2 charts/linkerd-control-plane/
//     values.yaml:439-445; applied through hyper's keep_alive_* in linkerd/proxy/http/src/h2.rs:105-116).
//     As hyper does, a PING goes out only when nothing was read on the connection for the interval.
// An endpoint is ready while its connection is up. A connection at the pod's stream limit is still
// ready — hyper's poll_ready answers Ready until the connection closes (hyper src/client/conn/
// http2.rs:101-107) — and the requests beyond the limit wait on that connection, in order, for a stream
// to free up (Node's HTTP/2 client queues them as hyper's dispatch task does); the balancer sees them
// as pending. This file is silent: it reports what happens as events, and leaves the words to others.
import { EventEmitter } from 'node:events';
import {
  connect,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type Http2Session,
  type OutgoingHttpHeaders,
  type SecureClientSessionOptions,
} from 'node:http2';
import type { Endpoint } from './endpoints.js';
import { backoffMs, type Backoff } from './backoff.js';
import type { LoopStalls } from './loop-stall.js';

export interface Keepalive {
  intervalMs: number;
  timeoutMs: number;
}

export interface UpstreamOptions {
  connectTimeoutMs: number;
  /** PINGs on every connection; undefined: none (Linkerd pings only meshed pods). */
  keepalive: Keepalive | undefined;
  reconnect: Backoff;
}

export const LINKERD_UPSTREAM: UpstreamOptions = {
  connectTimeoutMs: 1000,
  keepalive: { intervalMs: 10_000, timeoutMs: 3000 },
  reconnect: { minMs: 100, maxMs: 60_000, jitter: 0.1 },
};

/** Why a connection went: no PING answer, no connection in time, an error, the pod's GOAWAY, or it closed. */
export type LostCause = 'ping' | 'connect-timeout' | 'error' | 'goaway' | 'closed';

export interface UpstreamEvents {
  /** The connection to the endpoint is up: it takes requests. */
  connected: [endpoint: Endpoint];
  /** The connection went; the endpoint takes no requests until it is up again. */
  lost: [endpoint: Endpoint, cause: LostCause, detail: string];
  /** A PING's answer was not held against the pod: the loop was stalled for `stalledMs` of the wait. */
  stall: [endpoint: Endpoint, stalledMs: number];
}

// Node's own client queues requests beyond the peer's stream limit (as hyper's dispatch task does); a
// larger session memory keeps many queued requests from being refused.
const SESSION_OPTIONS: SecureClientSessionOptions = { maxSessionMemory: 64 };

export class Upstream {
  readonly endpoint: Endpoint;
  #session: ClientHttp2Session | undefined;
  #ready = false;
  /** Connection attempts that failed in a row: the backoff's exponent. */
  #failedAttempts = 0;
  #lastReadAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Requests whose streams are open on the current connection. */
  #active = 0;
  /** Why the last connection went, for the calls it took with it. */
  lastLoss = '';
  /** Sessions that got GOAWAY or were replaced, still finishing their streams. */
  readonly #draining = new Set<ClientHttp2Session>();
  readonly #pool: UpstreamPool;

  constructor(endpoint: Endpoint, pool: UpstreamPool) {
    this.endpoint = endpoint;
    this.#pool = pool;
    this.#connect();
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** Sends a request on the connection; only while ready. Call done() when its stream has closed. */
  request(headers: OutgoingHttpHeaders): ClientHttp2Stream {
    const stream = (this.#session as ClientHttp2Session).request(headers);
    this.#active += 1;
    return stream;
  }

  /** A request's stream on `session` closed: a retired connection closes with its last one. */
  done(session: Http2Session | undefined): void {
    if (session === undefined || session !== this.#session) return;
    this.#active -= 1;
    if (this.#active === 0 && this.#closed) this.#session?.close();
  }

  /** A frame arrived for a request on this connection: no PING is needed for a while. */
  read(now: number): void {
    this.#lastReadAt = now;
  }

  /**
   * The endpoint left: no new requests; the calls in flight finish, then the connection closes. Its
   * PINGs go on meanwhile (hyper's keep-alive lives in the connection's task, which runs until its last
   * stream ends), so that calls stuck on a pod that stopped answering still end. (The connection is
   * closed only after its last call, as Node sends no PING on a closing connection.)
   */
  retire(): void {
    this.#closed = true;
    if (!this.#ready) {
      clearTimeout(this.#timer);
      this.#session?.destroy();
      return;
    }
    this.#ready = false;
    if (this.#active === 0) this.#session?.close();
  }

  /** The mesh stops: every connection ends now. */
  close(): void {
    this.#closed = true;
    this.#ready = false;
    clearTimeout(this.#timer);
    this.#session?.destroy();
    for (const session of this.#draining) session.destroy();
  }

  #connect(): void {
    const { address, grpcPort } = this.endpoint;
    const options = this.#pool.options;
    const session = connect(`http://${address}:${grpcPort}`, SESSION_OPTIONS);
    this.#session = session;
    this.#timer = setTimeout(
      () => this.#lost(session, 'connect-timeout', `no connection within ${options.connectTimeoutMs} ms`),
      options.connectTimeoutMs,
    ).unref();
    session.once('connect', () => {
      if (session !== this.#session) return;
      clearTimeout(this.#timer);
      this.#failedAttempts = 0;
      this.#ready = true;
      this.#lastReadAt = performance.now();
      this.#scheduleKeepalive();
      this.#pool.emit('connected', this.endpoint);
    });
    session.on('error', (error: Error) => this.#lost(session, 'error', error.message));
    session.on('goaway', () => this.#lost(session, 'goaway', 'the pod sent GOAWAY'));
    session.on('close', () => {
      this.#draining.delete(session);
      this.#lost(session, 'closed', 'the connection closed');
    });
  }

  /** The connection is gone (or going): stop using it and try again after the backoff. */
  #lost(session: ClientHttp2Session, cause: LostCause, detail: string): void {
    if (session !== this.#session) return;
    const wasReady = this.#ready;
    this.#ready = false;
    this.lastLoss = detail;
    this.#session = undefined;
    this.#active = 0; // its streams close with it
    clearTimeout(this.#timer);
    if (cause === 'goaway') {
      this.#draining.add(session); // its streams finish; it closes by itself
    } else if (!session.destroyed) {
      session.destroy(new Error(`${this.endpoint.ip}: ${detail}`));
    }
    if (this.#closed) return; // retired: no new connection
    // A connection that was up starts a fresh backoff; failed attempts lengthen it (linkerd/reconnect/src/lib.rs:98-170).
    if (wasReady) this.#failedAttempts = 0;
    const delay = backoffMs(this.#failedAttempts, this.#pool.options.reconnect, Math.random);
    if (!wasReady) this.#failedAttempts += 1;
    this.#timer = setTimeout(() => this.#connect(), delay).unref();
    this.#pool.emit('lost', this.endpoint, cause, detail);
  }

  /** hyper's keep-alive: a PING when nothing was read for the interval; no answer within the timeout ends the connection. */
  #scheduleKeepalive(): void {
    const keepalive = this.#pool.options.keepalive;
    if (!keepalive) return;
    const session = this.#session;
    const due = this.#lastReadAt + keepalive.intervalMs - performance.now();
    this.#timer = setTimeout(
      () => {
        if (session !== this.#session) return;
        if (performance.now() - this.#lastReadAt < keepalive.intervalMs) this.#scheduleKeepalive();
        else this.#ping(session as ClientHttp2Session, keepalive.timeoutMs);
      },
      Math.max(0, due),
    ).unref();
  }

  #ping(session: ClientHttp2Session, timeoutMs: number): void {
    // A connection closed or destroyed here (retired, its last call just ended) has not told its 'close'
    // yet: Node throws on its ping(), and its close handler takes it from here.
    if (session.closed || session.destroyed) return;
    const stalls = this.#pool.stalls;
    const sentAt = performance.now();
    const mark = stalls.mark();
    let answered = false;
    const sent = session.ping((error) => {
      answered = true;
      if (error || session !== this.#session) return;
      this.#lastReadAt = performance.now();
      clearTimeout(this.#timer);
      this.#scheduleKeepalive();
    });
    if (!sent) {
      this.#lost(session, 'error', 'cannot send a PING');
      return;
    }
    const check = (waitMs: number) => {
      this.#timer = setTimeout(() => {
        if (answered || session !== this.#session) return;
        // Only the time the loop was free to read the answer counts against the pod (less the meter's
        // blind spot, so that an unseen bit of stall cannot tip the verdict).
        const stalled = stalls.since(mark);
        const free = performance.now() - sentAt - stalled - stalls.resolutionMs;
        if (free < timeoutMs) {
          this.#pool.emit('stall', this.endpoint, stalled);
          check(timeoutMs - free);
          return;
        }
        // An answer that came in with the timer is read in this turn's poll phase: look after it.
        setImmediate(() => {
          if (!answered) this.#lost(session, 'ping', `no answer to a PING within ${timeoutMs} ms`);
        });
      }, waitMs).unref();
    };
    check(timeoutMs);
  }
}

export class UpstreamPool extends EventEmitter<UpstreamEvents> {
  readonly options: UpstreamOptions;
  readonly stalls: LoopStalls;
  readonly #upstreams = new Map<string, Upstream>();

  constructor(options: UpstreamOptions, stalls: LoopStalls) {
    super();
    this.options = options;
    this.stalls = stalls;
  }

  get(ip: string): Upstream | undefined {
    return this.#upstreams.get(ip);
  }

  /** Opens connections to new endpoints and closes those to endpoints that left. */
  sync(endpoints: readonly Endpoint[]): void {
    const wanted = new Map(endpoints.map((endpoint) => [endpoint.ip, endpoint]));
    for (const [ip, upstream] of this.#upstreams) {
      const endpoint = wanted.get(ip);
      if (
        endpoint &&
        endpoint.address === upstream.endpoint.address &&
        endpoint.grpcPort === upstream.endpoint.grpcPort
      )
        continue;
      this.#upstreams.delete(ip);
      upstream.retire();
    }
    for (const [ip, endpoint] of wanted)
      if (!this.#upstreams.has(ip)) this.#upstreams.set(ip, new Upstream(endpoint, this));
  }

  close(): void {
    for (const upstream of this.#upstreams.values()) upstream.close();
    this.#upstreams.clear();
  }
}
