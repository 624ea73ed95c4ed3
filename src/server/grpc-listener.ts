// The gRPC port's front door. grpc-js bounds sessions (idle timeout, keepalive, streams) but not the
// TCP connections that never become one, nor their number. So we accept connections ourselves and
// hand a connection to grpc-js only once it has sent the HTTP/2 client preface:
//   - at most `maxConnections` open at once (the pod's memory is the limit; more are refused);
//   - the preface must arrive within `handshakeTimeoutMs`, and be the preface: a connection that
//     stalls half-way (slowloris) or sends anything else (HTTP/1, random bytes) is closed at once;
import * as grpc from '@grpc/grpc-js';
import { createServer, type Server, type Socket } from 'node:net';
import { listen } from '../common/listen.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export interface ListenerLimits {
  maxConnections: number;
  handshakeTimeoutMs: number;
}

export interface GrpcListener {
  port: number;
  /** Stop accepting connections (the ones open stay, for grpc-js to drain). */
  stopAccepting(): void;
  /** Resolves once every connection has closed. (grpc-js's tryShutdown calls back before injected
   *  connections have finished their calls, so this is what says the drain is over.) */
  drained(): Promise<void>;
  /** Close every connection at once, whatever the peer does. */
  destroyAll(): void;
}

export async function listenGrpc(
  server: grpc.Server,
  host: string,
  port: number,
  limits: ListenerLimits,
): Promise<GrpcListener> {
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const sockets = new Set<Socket>();
  let allClosed: (() => void) | undefined;
  const door: Server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      if (sockets.size === 0) allClosed?.();
    });
    socket.on('error', () => socket.destroy());
    awaitPreface(socket, limits.handshakeTimeoutMs, () => {
      injector.injectConnection(socket);
    });
  });
  door.maxConnections = limits.maxConnections;
  const bound = await listen(door, port, host);
  return {
    port: bound,
    stopAccepting: () => door.close(),
    drained: () => (sockets.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => (allClosed = resolve))),
    destroyAll: () => {
      door.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** Reads the first bytes; calls `accept` with them put back once they are the whole preface. */
function awaitPreface(socket: Socket, timeoutMs: number, accept: () => void): void {
  let seen = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  const onData = (chunk: Buffer) => {
    seen = Buffer.concat([seen, chunk]);
    const length = Math.min(seen.length, PREFACE.length);
    if (!seen.subarray(0, length).equals(PREFACE.subarray(0, length))) {
      clearTimeout(timer);
      socket.destroy();
      return;
    }
    if (seen.length < PREFACE.length) return;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('close', onClose);
    socket.pause();
    socket.unshift(seen);
    accept();
  };
  const onClose = () => clearTimeout(timer);
  socket.on('data', onData);
  socket.on('close', onClose);
  socket.resume();
}
