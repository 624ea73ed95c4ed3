// What the soak does to a server's ports: many idle HTTP/2 connections, and connections that send
// too little (slowloris) or nonsense (random bytes). Each kind reports what the server did with them.
import { randomBytes } from 'node:crypto';
import { connect as connectHttp2 } from 'node:http2';
import { connect as connectTcp, type Socket } from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
/** An empty SETTINGS frame: what a client sends right after the preface. */
const SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);

export interface IdleResult {
  attempted: number;
  /** connections on which the server's SETTINGS arrived */
  established: number;
  /** seconds it took to open them */
  openSeconds: number;
  /** of the established ones, how many the server closed, and after how many seconds each */
  closedAfter: number[];
  goaways: number;
  /** connections that failed before the server's SETTINGS (refused, reset, closed at once) */
  refused: number;
}

/**
 * Opens up to `count` HTTP/2 connections (50 at a time, for at most `openMs`), sends nothing on them,
 * and watches for `holdMs` in all which ones the server closes; runs `opened` once they are open and
 * `held` at the end, before letting go of those still open.
 */
export async function idleConnections(
  port: number,
  count: number,
  openMs: number,
  holdMs: number,
  check: { opened: () => Promise<void>; held: () => Promise<void> },
): Promise<IdleResult> {
  const started = performance.now();
  const result: IdleResult = { attempted: 0, established: 0, openSeconds: 0, closedAfter: [], goaways: 0, refused: 0 };
  const sessions: Array<ReturnType<typeof connectHttp2>> = [];
  const openOne = () =>
    new Promise<void>((resolve) => {
      result.attempted += 1;
      const session = connectHttp2(`http://127.0.0.1:${port}`);
      sessions.push(session);
      let openedAt: number | undefined;
      // a server at its cap may leave a connection in the kernel's backlog, unanswered: give up on it
      const giveUp = setTimeout(() => session.destroy(), 5000);
      session.once('remoteSettings', () => {
        clearTimeout(giveUp);
        openedAt = performance.now();
        result.established += 1;
        resolve();
      });
      session.on('goaway', () => (result.goaways += 1));
      session.on('error', () => undefined);
      session.once('close', () => {
        clearTimeout(giveUp);
        if (openedAt === undefined) {
          result.refused += 1;
          resolve();
        } else if (!stopping) result.closedAfter.push((performance.now() - openedAt) / 1000);
      });
    });
  let stopping = false;
  const parallel = 50;
  const opener = async () => {
    while (result.attempted < count && performance.now() - started < openMs) await openOne();
  };
  await Promise.all(Array.from({ length: parallel }, opener));
  result.openSeconds = (performance.now() - started) / 1000;
  const held = performance.now();
  await check.opened();
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, holdMs - (performance.now() - held))));
  stopping = true;
  await check.held();
  for (const session of sessions) session.destroy();
  return result;
}

export interface Hostile {
  name: string;
  port: 'grpc' | 'http';
  /** what each connection sends when it opens */
  first: () => Buffer;
  /** what it sends every `everyMs` afterwards (nothing when undefined) */
  then?: (i: number) => Buffer | undefined;
}

export const HOSTILE: Hostile[] = [
  {
    name: 'half an HTTP/2 preface, then a byte every 5 s',
    port: 'grpc',
    first: () => PREFACE.subarray(0, 12),
    then: (i) => (12 + i < PREFACE.length - 1 ? PREFACE.subarray(12 + i, 13 + i) : undefined),
  },
  {
    name: 'partial HTTP/1.1 headers, a header line every 5 s',
    port: 'http',
    first: () => Buffer.from('GET /addr HTTP/1.1\r\nHost: 127.0.0.1\r\n'),
    then: (i) => Buffer.from(`X-Slow-${i}: 1\r\n`),
  },
  { name: 'random bytes (64 KiB) instead of a preface', port: 'grpc', first: () => randomBytes(64 * 1024) },
  {
    name: 'a preface and SETTINGS, then random bytes (64 KiB)',
    port: 'grpc',
    first: () => Buffer.concat([PREFACE, SETTINGS, randomBytes(64 * 1024)]),
  },
];

export interface HostileResult {
  name: string;
  opened: number;
  /** still open after the round: the server neither closed them nor timed them out */
  stillOpen: number;
}

/**
 * Runs `count` connections of each kind at once for `seconds`, then `atEnd` while they are still held;
 * resolves with how many stayed open.
 */
export async function hostileConnections(
  ports: { grpc: number; http: number },
  count: number,
  seconds: number,
  atEnd: () => Promise<void>,
): Promise<HostileResult[]> {
  const everyMs = 5000;
  const rounds = HOSTILE.map((kind) => {
    const sockets: Socket[] = [];
    const closed = new Set<Socket>();
    for (let n = 0; n < count; n++) {
      const socket = connectTcp({ host: '127.0.0.1', port: ports[kind.port] });
      sockets.push(socket);
      socket.on('connect', () => socket.write(kind.first()));
      socket.on('data', () => undefined); // read what the server answers (a GOAWAY, a 400), so it can close
      socket.on('error', () => undefined);
      socket.on('close', () => closed.add(socket));
    }
    let i = 0;
    const trickle = kind.then
      ? setInterval(() => {
          const bytes = kind.then?.(i++);
          if (bytes) for (const socket of sockets) if (!closed.has(socket) && socket.writable) socket.write(bytes);
        }, everyMs)
      : undefined;
    return { kind, sockets, closed, trickle };
  });
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const results = rounds.map(({ kind, sockets, closed }) => ({
    name: kind.name,
    opened: sockets.length,
    stillOpen: sockets.length - closed.size,
  }));
  await atEnd();
  for (const { sockets, trickle } of rounds) {
    clearInterval(trickle);
    for (const socket of sockets) socket.destroy();
  }
  return results;
}
