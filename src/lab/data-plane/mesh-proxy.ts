// The mesh: an L7 proxy beside the in-mesh client, as Linkerd's sidecar is. It takes the client's one
// HTTP/2 connection and sends each request (each gRPC call) to a ready endpoint chosen per request
// (round-robin, or Linkerd's p2c-ewma: see balancer.ts), following endpoint changes at once. Status,
// trailers, metadata and the grpc-timeout deadline pass through untouched; when no endpoint can take
// a call it answers UNAVAILABLE, as Linkerd does.
import {
  connect,
  constants,
  createServer,
  type ClientHttp2Session,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { listen } from '../../common/listen.js';
import { balancer as makeBalancer, type Balancer, type BalancerName } from './balancer.js';
import type { Endpoint, Endpoints } from '../control-plane/endpoints.js';

const { NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR } = constants;
const GRPC_UNAVAILABLE = 14;
// Connection-specific headers may not be forwarded on HTTP/2; pseudo-headers are set by node.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings']);

function forwardable(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && (!name.startsWith(':') || name === ':method' || name === ':path' || name === ':status')) {
      out[name] = value;
    }
  }
  return out;
}

export class MeshProxy {
  /** Requests sent to each pod IP so far: what an L7 balancer sees. */
  readonly requests = new Map<string, number>();
  /** Told of each request as it is sent to a pod; what it returns is called when the request ends (metrics). */
  onRequest: ((ip: string) => () => void) | undefined;
  readonly #server: Http2Server;
  readonly #sessions = new Map<string, ClientHttp2Session>();
  readonly #endpoints: Endpoints;
  readonly #balancer: Balancer;

  constructor(endpoints: Endpoints, balancer: BalancerName = 'round-robin') {
    this.#endpoints = endpoints;
    this.#balancer = makeBalancer(balancer);
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
    });
  }

  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return listen(this.#server, port, host);
  }

  close(): Promise<void> {
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
    return session;
  }

  #forward(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    const endpoint = this.#balancer.pick(this.#endpoints.list());
    if (!endpoint) {
      fail(stream, 'no ready endpoints for the service');
      return;
    }
    this.requests.set(endpoint.ip, (this.requests.get(endpoint.ip) ?? 0) + 1);

    let upstream;
    try {
      upstream = this.#sessionTo(endpoint).request(forwardable(headers));
    } catch (error) {
      fail(stream, `cannot reach ${endpoint.ip}: ${(error as Error).message}`);
      return;
    }
    let trailers: Record<string, string | string[]> | undefined;
    const finished = this.#balancer.started(endpoint);
    upstream.once('close', finished);
    const observed = this.onRequest?.(endpoint.ip);
    if (observed) upstream.once('close', observed);

    upstream.on('response', (response, flags) => {
      if (stream.destroyed) return;
      if (flags & constants.NGHTTP2_FLAG_END_STREAM) {
        stream.respond(forwardable(response), { endStream: true }); // trailers-only response
      } else {
        stream.respond(forwardable(response), { waitForTrailers: true });
      }
    });
    upstream.on('trailers', (received) => (trailers = forwardable(received)));
    stream.on('wantTrailers', () => stream.sendTrailers(trailers ?? { 'grpc-status': '13', 'grpc-message': 'upstream ended without trailers' }));
    upstream.pipe(stream, { end: false }); // with backpressure; the end is ours to send, after the trailers
    upstream.on('end', () => {
      if (stream.headersSent && !stream.destroyed && !stream.writableEnded) stream.end();
    });
    upstream.on('error', (error) => {
      if (!stream.headersSent) fail(stream, `${endpoint.ip}: ${error.message}`);
      else if (!stream.destroyed) stream.close(NGHTTP2_INTERNAL_ERROR);
    });
    upstream.on('close', () => {
      if (!stream.headersSent && !stream.destroyed) fail(stream, `${endpoint.ip} closed the stream`);
    });

    stream.pipe(upstream);
    stream.on('close', () => {
      if (!upstream.closed) upstream.close(NGHTTP2_CANCEL); // the client cancelled or went away
    });
    stream.on('error', () => undefined);
  }
}

/** A trailers-only gRPC response: UNAVAILABLE with a reason. */
function fail(stream: ServerHttp2Stream, message: string): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond(
    { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(GRPC_UNAVAILABLE), 'grpc-message': encodeURIComponent(message) },
    { endStream: true },
  );
}
