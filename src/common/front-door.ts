// A TCP listener's front door: what a connection may hold before it is any use, so that no peer (a
// flood, a slowloris, a half-open socket) can take the descriptors a process has.
//   - at most `maxConnections` open at once; more are refused (Node closes them on accept);
//   - for an HTTP/2 listener, the connection preface within `prefaceTimeoutMs`, and nothing else: a
//     connection that stalls part-way or sends other bytes is closed at once; a good one is handed on
//     with what it sent put back, so the HTTP/2 server reads it from the start.
// (addr-server's gRPC port has the same rules in src/server/grpc-listener.ts; this is a separate
// implementation, shared by the lab's mesh and Service proxies.)
import { createServer, type Server, type Socket } from 'node:net';
import { listen } from './listen.js';

/** RFC 9113 §3.4: every HTTP/2 connection opens with these 24 bytes. */
export const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export interface FrontDoorLimits {
  maxConnections: number;
  /** Wait this long for the HTTP/2 preface, then close; 0 or absent: a plain TCP door (no preface). */
  prefaceTimeoutMs?: number;
  /** Keep a connection's sending side open after the peer ended its own (a TCP relay passes half-close on). */
  allowHalfOpen?: boolean;
}

export class FrontDoor {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #allClosed: (() => void) | undefined;

  /** `admit` gets each connection that passed the door (paused, with its first bytes put back). */
  constructor(limits: FrontDoorLimits, admit: (socket: Socket) => void) {
    this.#server = createServer(
      { noDelay: true, pauseOnConnect: true, allowHalfOpen: limits.allowHalfOpen ?? false },
      (socket) => {
        this.#sockets.add(socket);
        socket.once('close', () => {
          this.#sockets.delete(socket);
          if (this.#sockets.size === 0) this.#allClosed?.();
        });
        const timeoutMs = limits.prefaceTimeoutMs ?? 0;
        if (timeoutMs > 0) awaitPreface(socket, timeoutMs, admit);
        else admit(socket);
      },
    );
    this.#server.maxConnections = limits.maxConnections;
  }

  /** Connections open now. */
  get open(): number {
    return this.#sockets.size;
  }

  listen(port: number, host: string): Promise<number> {
    return listen(this.#server, port, host);
  }

  /** Stops accepting; resolves once every connection has closed (see destroyAll). */
  close(): Promise<void> {
    this.#server.close();
    return this.#sockets.size === 0 ? Promise.resolve() : new Promise((resolve) => (this.#allClosed = resolve));
  }

  destroyAll(): void {
    for (const socket of this.#sockets) socket.destroy();
  }
}

/** Reads until the whole preface has come (admit) or a byte differs or the time is up (close). */
function awaitPreface(socket: Socket, timeoutMs: number, admit: (socket: Socket) => void): void {
  const chunks: Buffer[] = [];
  let matched = 0;
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  const done = () => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('close', done);
  };
  const onData = (chunk: Buffer) => {
    const length = Math.min(chunk.length, HTTP2_PREFACE.length - matched);
    if (HTTP2_PREFACE.compare(chunk, 0, length, matched, matched + length) !== 0) {
      done();
      socket.destroy();
      return;
    }
    matched += length;
    chunks.push(chunk);
    if (matched < HTTP2_PREFACE.length) return;
    done();
    socket.pause();
    socket.unshift(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    admit(socket);
  };
  socket.on('data', onData);
  socket.once('close', done);
  socket.on('error', () => socket.destroy());
  socket.resume();
}
