// The mesh's own port, where in-mesh clients connect: an HTTP/2 server behind the same front door as a
// pod's gRPC port (a cap on connections, the preface within 10 s) that also closes a connection with no
// call open for a minute (GOAWAY, as a pod's grpc.max_connection_idle_ms does), so no client can hold the
// lab's descriptors for nothing. It advertises no SETTINGS_MAX_CONCURRENT_STREAMS, as Linkerd's proxy
// does not (linkerd/http/h2/src/lib.rs:3-8 leaves it None; linkerd/proxy/http/src/server.rs:104 passes
// it to hyper, where None removes the limit): the pods' limits apply behind it, per connection.
import { createServer, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { FrontDoor } from '../../common/front-door.js';

export interface MeshListenerLimits {
  maxConnections: number;
  prefaceTimeoutMs: number;
  /** Close a connection that has had no call open for this long (0: never). */
  idleTimeoutMs: number;
}

export const MESH_LISTENER_LIMITS: MeshListenerLimits = {
  maxConnections: 1000,
  prefaceTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
};

interface Activity {
  open: number;
  idleSince: number;
}

const activity = new WeakMap<object, Activity>();

function streamClosed(this: ServerHttp2Stream): void {
  const state = activity.get(this.session as object);
  if (state && --state.open === 0) state.idleSince = performance.now();
}

export class MeshListener {
  readonly #server: Http2Server;
  readonly #door: FrontDoor;
  readonly #sessions = new Set<{ close(): void; destroy(): void }>();
  readonly #sweep: NodeJS.Timeout | undefined;

  constructor(limits: MeshListenerLimits, onStream: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void) {
    this.#server = createServer();
    this.#server.on('session', (session) => {
      activity.set(session, { open: 0, idleSince: performance.now() });
      this.#sessions.add(session);
      session.once('close', () => this.#sessions.delete(session));
    });
    this.#server.on('stream', (stream, headers) => {
      const state = activity.get(stream.session as object);
      if (state) state.open += 1;
      stream.once('close', streamClosed);
      onStream(stream, headers);
    });
    this.#server.on('sessionError', () => undefined);
    this.#door = new FrontDoor(limits, (socket: Socket) => this.#server.emit('connection', socket));
    if (limits.idleTimeoutMs > 0) {
      // One sweep for all connections, rather than a timer per connection going idle after each call.
      this.#sweep = setInterval(
        () => {
          const now = performance.now();
          for (const session of this.#sessions) {
            const state = activity.get(session);
            if (state && state.open === 0 && now - state.idleSince >= limits.idleTimeoutMs) session.close();
          }
        },
        Math.max(10, limits.idleTimeoutMs / 4),
      ).unref();
    }
  }

  /** Connections open now (in the front door or established). */
  get connections(): number {
    return this.#door.open;
  }

  listen(port: number, host: string): Promise<number> {
    return this.#door.listen(port, host);
  }

  /** Stops accepting and ends every connection now. */
  async close(): Promise<void> {
    clearInterval(this.#sweep);
    const closed = this.#door.close();
    for (const session of this.#sessions) session.destroy();
    this.#door.destroyAll();
    await closed;
  }
}
