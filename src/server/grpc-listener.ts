// The gRPC port's front door. grpc-js bounds sessions (idle timeout, keepalive, streams) but not the
// TCP connections that never become one, nor their number. So we accept connections ourselves and
// hand a connection to grpc-js only once it has sent the HTTP/2 client preface and its SETTINGS:
//   - at most `maxConnections` open at once (the pod's memory is the limit; more are refused), and
//     optionally at most `maxConnectionsPerPeer` of them from one address;
//   - the preface must arrive within `handshakeTimeoutMs`, and the SETTINGS frame that follows it within
//     2 s more (the bounds of Go's HTTP/2 server, golang.org/x/net/http2: prefaceTimeout and
//     firstSettingsTimeout); a connection that stalls (slowloris, or the preface and then nothing) or
//     sends anything else (HTTP/1, random bytes) is closed;
//   - once stopping, nothing more is handed to grpc-js: a connection still in its handshake when the
//     stop begins is answered by a bare HTTP/2 server that sends GOAWAY at once, so that no connection
//     reaches grpc-js after its drain began, where it would never be told to go away.
import * as grpc from '@grpc/grpc-js';
import { createServer as createHttp2Server, constants as http2, type Http2Server } from 'node:http2';
import { createServer, type Server, type Socket } from 'node:net';
import { listen } from '../common/listen.js';
import { prefaceProgress } from './client-preface.js';

/** Go's firstSettingsTimeout: the SETTINGS frame "should be in-flight with preface anyway". */
const SETTINGS_TIMEOUT_MS = 2000;

export interface ListenerLimits {
  maxConnections: number;
  /** 0: no share per peer, only maxConnections */
  maxConnectionsPerPeer: number;
  handshakeTimeoutMs: number;
}

export interface GrpcListener {
  port: number;
  /** Stop accepting connections, and hand no more to grpc-js (the ones it has stay, for it to drain). */
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
  /** connections still in their handshake, each with what hands it over as it is (the bytes read put back) */
  const handshaking = new Map<Socket, () => void>();
  const perPeer = new Map<string, number>();
  let stopping = false;
  let goingAway: Http2Server | undefined;
  let allClosed: (() => void) | undefined;

  /** After the stop began: speak just enough HTTP/2 to say GOAWAY, and refuse any stream already sent. */
  const sendAway = (socket: Socket) => {
    goingAway ??= createHttp2Server()
      .on('session', (session) => {
        session.on('error', () => undefined);
        session.close();
      })
      .on('stream', (stream) => stream.close(http2.NGHTTP2_REFUSED_STREAM));
    goingAway.emit('connection', socket);
  };

  const tcpServer: Server = createServer({ noDelay: true }, (socket) => {
    const peer = socket.remoteAddress ?? '';
    const fromPeer = (perPeer.get(peer) ?? 0) + 1;
    if (limits.maxConnectionsPerPeer > 0 && fromPeer > limits.maxConnectionsPerPeer) {
      socket.destroy();
      return;
    }
    perPeer.set(peer, fromPeer);
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      handshaking.delete(socket);
      const left = (perPeer.get(peer) ?? 1) - 1;
      if (left > 0) perPeer.set(peer, left);
      else perPeer.delete(peer);
      if (sockets.size === 0) allClosed?.();
    });
    socket.on('error', () => socket.destroy());
    const handOver = awaitPreface(socket, limits.handshakeTimeoutMs, () => {
      handshaking.delete(socket);
      if (stopping) sendAway(socket);
      else injector.injectConnection(socket);
    });
    handshaking.set(socket, handOver);
  });
  tcpServer.maxConnections = limits.maxConnections;
  const bound = await listen(tcpServer, port, host);
  return {
    port: bound,
    stopAccepting: () => {
      stopping = true;
      tcpServer.close();
      for (const [socket, handOver] of handshaking) {
        handOver();
        sendAway(socket);
      }
      handshaking.clear();
    },
    drained: () => (sockets.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => (allClosed = resolve))),
    destroyAll: () => {
      tcpServer.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** Reads the client's first bytes; calls `accept` with them put back once they are the preface and a
 *  whole SETTINGS frame. Closes the connection on anything else, or when they are late. Returns what
 *  stops the reading midway and puts back what was read. */
function awaitPreface(socket: Socket, timeoutMs: number, accept: () => void): () => void {
  let seen: Buffer = Buffer.alloc(0);
  let timer = setTimeout(() => socket.destroy(), timeoutMs);
  let awaitingSettings = false;
  const stop = () => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('close', stop);
  };
  const handOver = () => {
    stop();
    socket.pause();
    if (seen.length > 0) socket.unshift(seen);
  };
  const onData = (chunk: Buffer) => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const progress = prefaceProgress(seen);
    if (progress === 'invalid') {
      stop();
      socket.destroy();
    } else if (progress === 'settings' && !awaitingSettings) {
      awaitingSettings = true;
      clearTimeout(timer);
      timer = setTimeout(() => socket.destroy(), Math.min(SETTINGS_TIMEOUT_MS, timeoutMs));
    } else if (progress === 'complete') {
      handOver();
      accept();
    }
  };
  socket.on('data', onData);
  socket.on('close', stop);
  socket.resume();
  return handOver;
}
