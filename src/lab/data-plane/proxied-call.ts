// One call through the mesh: the caller's stream, the stream to the pod it was sent to, and what the
// call's outcome was. Request and response pass through untouched — headers (the caller's :authority
// included, as Linkerd forwards it), body with backpressure, trailers — and the pod's answer is
// classified for failure accrual as Linkerd does (response-class.ts). The balancer's hold on the
// endpoint ends at the first frame of the response body (Linkerd's PendingUntilFirstData), or at once
// for a response that ends with its headers, or when the call fails or the caller leaves.
// A stream the pod refused before processing it (RST_STREAM REFUSED_STREAM, or ENHANCE_YOUR_CALM, which
// Node's HTTP/2 server sends instead when a new stream arrives in the same read as the reset that freed
// its slot: it counts the reset stream until its next turn) is sent again, as RFC 9113 §8.7 allows —
// hyper, and so linkerd2-proxy, would pass the reset on to the caller. For that the request body is kept
// until the response begins (up to 64 KiB; a larger one is not sent again).
// The event handlers are shared functions that find their call on the stream, not closures made anew
// for every call: the mesh's cost per call is what a user reads as "the cost of a mesh".
import { status } from '@grpc/grpc-js';
import { constants, type ClientHttp2Stream, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Endpoint } from './endpoints.js';
import { classifyHeaders, classifyTrailers, isGrpc, type ResponseClass } from './response-class.js';
import type { Upstream } from './upstream-pool.js';

const {
  NGHTTP2_CANCEL,
  NGHTTP2_ENHANCE_YOUR_CALM,
  NGHTTP2_FLAG_END_STREAM,
  NGHTTP2_INTERNAL_ERROR,
  NGHTTP2_NO_ERROR,
  NGHTTP2_REFUSED_STREAM,
} = constants;

/** What became of a call: its class, or 'cancelled' when the caller left before any answer (never classified). */
export type CallOutcome = ResponseClass | 'cancelled';

export interface CallHost {
  /** The call was sent to an endpoint and is over. */
  ended(call: ProxiedCall, outcome: CallOutcome): void;
  /** The pod refused the stream before processing it: the call waits to be sent again (see again()). */
  refused(call: ProxiedCall): void;
  /** Time to send the refused call again. */
  again(call: ProxiedCall): void;
  /** The call was never sent anywhere (or is between attempts), and no longer waits to be. */
  abandoned(call: ProxiedCall): void;
}

/** A request body kept for sending again is at most this big. */
const REPLAY_LIMIT = 64 * 1024;
/** Waits before sending a refused stream again: the pod frees the slot on its next turn. */
const REFUSED_RETRY_MS = [1, 5, 25, 100, 250];

const kCall = Symbol('call');
const kUpstream = Symbol('upstream');
type Tagged<T> = T & { [kCall]: ProxiedCall };

export class ProxiedCall {
  readonly downstream: ServerHttp2Stream;
  readonly headers: IncomingHttpHeaders;
  readonly grpc: boolean;
  readonly arrivedAt: number;
  /** Set by the mesh: a number per call, so that a call's events can be told apart. */
  id = 0;
  endpoint: Endpoint | undefined;
  sentAt = 0;
  readonly #host: CallHost;
  #connection: Upstream | undefined;
  #upstream: ClientHttp2Stream | undefined;
  #release: (() => void) | undefined;
  #responded = false;
  #class: ResponseClass | undefined;
  #trailers: IncomingHttpHeaders | undefined;
  #outcome: CallOutcome | undefined;
  #timer: NodeJS.Timeout | undefined;
  #queued = true;
  #session: ClientHttp2Stream['session'];
  /** The request body so far, while it may still have to be sent again; undefined once it may not. */
  #replay: Buffer[] | undefined = [];
  #replayBytes = 0;
  #requestEnded = false;
  #refusals = 0;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(host: CallHost, downstream: ServerHttp2Stream, headers: IncomingHttpHeaders) {
    this.#host = host;
    this.downstream = downstream;
    this.headers = headers;
    this.grpc = isGrpc(headers);
    this.arrivedAt = performance.now();
    (downstream as Tagged<ServerHttp2Stream>)[kCall] = this;
    downstream.on('error', ignore);
    downstream.on('close', onDownstreamClose);
  }

  get outcome(): CallOutcome | undefined {
    return this.#outcome;
  }

  /** The stream to the pod, once the call was sent. */
  get upstream(): ClientHttp2Stream | undefined {
    return this.#upstream;
  }

  /** A frame of the response body arrived: the balancer's hold on the endpoint ends with the first. */
  bodyFrame(): void {
    this.#releaseHold();
  }

  /** The route's request timeout (Linkerd's timeout.linkerd.io/request): the call's whole life, queue included. */
  limit(timeoutMs: number): void {
    this.#timer = setTimeout(() => this.#timedOut(timeoutMs), timeoutMs);
  }

  /** Sends the call to `endpoint` on its connection; `release` ends the balancer's hold on the endpoint. */
  send(connection: Upstream, endpoint: Endpoint, release: () => void): void {
    this.#queued = false;
    this.#connection = connection;
    this.endpoint = endpoint;
    this.#release = release;
    this.#responded = false;
    this.#class = undefined;
    this.#trailers = undefined;
    this.sentAt = performance.now();
    let upstream: ClientHttp2Stream;
    try {
      upstream = connection.request(this.headers);
    } catch (error) {
      this.#finish('failure');
      this.answer(status.UNAVAILABLE, `endpoint ${this.#where()}: ${(error as Error).message}`, 502);
      return;
    }
    this.#upstream = upstream;
    this.#session = upstream.session;
    (upstream as Tagged<ClientHttp2Stream>)[kCall] = this;
    upstream.on('response', onResponse);
    upstream.on('data', onUpstreamData);
    upstream.on('trailers', onTrailers);
    upstream.on('end', onUpstreamEnd);
    upstream.on('error', ignore);
    upstream.on('close', onUpstreamClose);
    if (this.#refusals === 0) {
      this.downstream.on('data', onDownstreamData);
      this.downstream.on('end', onDownstreamEnd);
      return;
    }
    // Sent again: what the caller sent so far goes first.
    for (const chunk of this.#replay ?? []) upstream.write(chunk);
    if (this.#requestEnded) upstream.end();
  }

  /** A chunk of the request body: to the pod, and kept while the call may have to be sent again. */
  requestData(chunk: Buffer): void {
    const replay = this.#replay;
    if (replay) {
      this.#replayBytes += chunk.length;
      if (this.#replayBytes <= REPLAY_LIMIT) replay.push(chunk);
      else this.#replay = undefined;
    }
    const upstream = this.#upstream as ClientHttp2Stream;
    if (!upstream.write(chunk)) {
      this.downstream.pause();
      upstream.once('drain', resumeDownstream);
    }
  }

  requestEnd(): void {
    this.#requestEnded = true;
    const upstream = this.#upstream as ClientHttp2Stream;
    if (!upstream.writableEnded) upstream.end();
  }

  /**
   * Answers the caller in the mesh's own name and ends the call, as Linkerd's proxy does for errors: for
   * gRPC a trailers-only response with `code` and the reason (and l5d-proxy-error, as Linkerd sets it);
   * for plain HTTP `httpStatus` with the reason as the body.
   */
  answer(code: status, message: string, httpStatus: number): void {
    clearTimeout(this.#timer);
    const stream = this.downstream;
    if (stream.destroyed || stream.headersSent) return;
    const reason = grpcMessage(message);
    if (this.grpc) {
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': String(code),
          'grpc-message': reason,
          'l5d-proxy-error': reason,
        },
        { endStream: true },
      );
    } else {
      stream.respond({ ':status': httpStatus, 'content-type': 'text/plain', 'l5d-proxy-error': reason });
      stream.end(message);
    }
  }

  #where(): string {
    const endpoint = this.endpoint;
    return endpoint ? `${endpoint.ip}:${endpoint.grpcPort}` : '?';
  }

  #releaseHold(): void {
    const release = this.#release;
    if (release) {
      this.#release = undefined;
      release();
    }
  }

  #finish(outcome: CallOutcome): void {
    if (this.#outcome !== undefined) return;
    this.#outcome = outcome;
    clearTimeout(this.#timer);
    this.#releaseHold();
    this.#host.ended(this, outcome);
  }

  /** The pod's response headers. */
  response(headers: IncomingHttpHeaders, flags: number): void {
    this.#connection?.read(performance.now());
    this.#responded = true;
    this.#replay = undefined;
    this.#class = classifyHeaders(this.grpc, headers);
    const stream = this.downstream;
    if (flags & NGHTTP2_FLAG_END_STREAM) {
      // A response that ends with its headers (gRPC's trailers-only): no body frame will come.
      this.#releaseHold();
      if (!stream.destroyed) stream.respond(headers, { endStream: true });
      this.#finish(this.#class ?? 'success');
      return;
    }
    if (stream.destroyed) return;
    stream.respond(headers, { waitForTrailers: true });
    stream.once('wantTrailers', onWantTrailers);
  }

  trailers(trailers: IncomingHttpHeaders): void {
    this.#releaseHold();
    this.#trailers = trailers;
  }

  sendTrailers(): void {
    if (!this.downstream.destroyed) this.downstream.sendTrailers(this.#trailers ?? {});
  }

  /** The pod's response is complete. */
  upstreamEnded(): void {
    this.#connection?.read(performance.now());
    this.#releaseHold();
    const stream = this.downstream;
    if (stream.headersSent && !stream.destroyed && !stream.writableEnded) stream.end();
    this.#finish(this.#class ?? (this.grpc ? classifyTrailers(this.#trailers) : 'success'));
  }

  /** The stream to the pod closed: normally after its end; otherwise it was reset or its connection went. */
  upstreamClosed(upstream: ClientHttp2Stream): void {
    if (upstream !== this.#upstream) return;
    this.#connection?.done(this.#session);
    this.#releaseHold();
    if (this.#outcome !== undefined) return;
    const code = upstream.rstCode ?? NGHTTP2_NO_ERROR;
    const session = this.#session;
    const sessionAlive = session !== undefined && !session.destroyed && !session.closed;
    const stream = this.downstream;
    const refused = code === NGHTTP2_REFUSED_STREAM || code === NGHTTP2_ENHANCE_YOUR_CALM;
    if (refused && sessionAlive && !this.#responded && this.#replay && this.#refusals < REFUSED_RETRY_MS.length) {
      this.#queued = true;
      this.#host.refused(this);
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined;
        this.#host.again(this);
      }, REFUSED_RETRY_MS[this.#refusals]);
      this.#refusals += 1;
      return;
    }
    this.#finish('failure');
    if (sessionAlive && code !== NGHTTP2_NO_ERROR && code !== NGHTTP2_CANCEL) {
      // The pod reset the stream: the caller gets the same reset (hyper resets with the error's reason).
      if (!stream.destroyed) stream.close(code);
    } else if (!stream.headersSent) {
      const why = this.#connection?.lastLoss || 'connection closed before the response';
      this.answer(status.UNAVAILABLE, `endpoint ${this.#where()}: ${why}`, 502);
    } else if (!stream.destroyed) {
      stream.close(NGHTTP2_INTERNAL_ERROR);
    }
  }

  /** The caller's stream closed: after the answer, or because the caller left. */
  downstreamClosed(): void {
    clearTimeout(this.#timer);
    clearTimeout(this.#retryTimer);
    if (this.#queued) {
      this.#queued = false;
      this.#host.abandoned(this);
      return;
    }
    if (this.#outcome === undefined) {
      // Left after the response headers: an HTTP response was classified by them; a gRPC stream dropped
      // before its trailers counts as ended without any (a success). Left before them: never classified.
      if (this.#responded) this.#finish(this.#class ?? 'success');
      else this.#finish('cancelled');
    }
    const upstream = this.#upstream;
    if (upstream && !upstream.closed) upstream.close(NGHTTP2_CANCEL);
  }

  #timedOut(timeoutMs: number): void {
    const text = `request timeout: ${rustDuration(timeoutMs)}`;
    if (this.#queued) {
      this.#queued = false;
      this.#host.abandoned(this);
      this.answer(status.DEADLINE_EXCEEDED, `timed out waiting for response headers: ${text}`, 504);
      return;
    }
    this.#finish('failure'); // a route timeout is the endpoint's failure (classify.rs: Class::Error)
    const upstream = this.#upstream;
    if (upstream && !upstream.closed) upstream.close(NGHTTP2_CANCEL);
    if (!this.downstream.headersSent)
      this.answer(status.DEADLINE_EXCEEDED, `timed out waiting for response headers: ${text}`, 504);
    else if (!this.downstream.destroyed) this.downstream.close(NGHTTP2_INTERNAL_ERROR);
  }
}

function ignore(): void {}

function callOf(stream: ServerHttp2Stream | ClientHttp2Stream): ProxiedCall {
  return (stream as Tagged<typeof stream>)[kCall];
}

function onDownstreamClose(this: ServerHttp2Stream): void {
  callOf(this).downstreamClosed();
}

function onDownstreamData(this: ServerHttp2Stream, chunk: Buffer): void {
  callOf(this).requestData(chunk);
}

function resumeDownstream(this: ClientHttp2Stream): void {
  callOf(this).downstream.resume();
}

function onDownstreamEnd(this: ServerHttp2Stream): void {
  callOf(this).requestEnd();
}

function onResponse(this: ClientHttp2Stream, headers: IncomingHttpHeaders, flags: number): void {
  callOf(this).response(headers, flags);
}

function onUpstreamData(this: ClientHttp2Stream, chunk: Buffer): void {
  const call = callOf(this);
  call.bodyFrame();
  const downstream = call.downstream;
  if (downstream.destroyed) return;
  if (!downstream.write(chunk)) {
    this.pause();
    (downstream as ServerHttp2Stream & { [kUpstream]?: ClientHttp2Stream })[kUpstream] = this;
    downstream.once('drain', resumeUpstream);
  }
}

function resumeUpstream(this: ServerHttp2Stream & { [kUpstream]?: ClientHttp2Stream }): void {
  this[kUpstream]?.resume();
}

function onTrailers(this: ClientHttp2Stream, trailers: IncomingHttpHeaders): void {
  callOf(this).trailers(trailers);
}

function onUpstreamEnd(this: ClientHttp2Stream): void {
  callOf(this).upstreamEnded();
}

function onUpstreamClose(this: ClientHttp2Stream): void {
  callOf(this).upstreamClosed(this);
}

function onWantTrailers(this: ServerHttp2Stream): void {
  callOf(this).sendTrailers();
}

/** grpc-message is percent-encoded, but only outside printable ASCII and for '%' itself (gRPC over HTTP/2). */
export function grpcMessage(text: string): string {
  return text.replace(/[^\x20-\x24\x26-\x7e]/gu, (char) => encodeURIComponent(char));
}

/** A duration as Rust's Debug prints it (Linkerd's timeout messages): 500ms, 1s, 1.5s. */
function rustDuration(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${ms / 1000}s`;
}
