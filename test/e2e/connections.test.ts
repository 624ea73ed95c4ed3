// The gRPC port bounds what a connection may cost: idle, stalled, silent and broken connections are
// closed, and no more than --max-connections are open at once. (Short limits set here; the defaults
// are in the server's --help.) Observed from the peer's side: the connection ends.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { prefaceProgress } from '../../src/server/client-preface.js';
import { getAddr, healthCheck } from '../support/grpc.js';
import { startServer, type ServerProcess } from './support/processes.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const SETTINGS = Buffer.from([0, 0, 0, 0x4, 0, 0, 0, 0, 0]); // an empty SETTINGS frame
const DATA_ON_STREAM_0 = Buffer.from([0, 0, 1, 0x0, 0, 0, 0, 0, 0, 0x41]); // a protocol error

/** Opens a raw TCP connection, writes `bytes`, and resolves when the server closes it (or 'open' after waitMs). */
async function closedByServer(
  port: number,
  bytes: Buffer,
  waitMs: number,
  onConnect?: (socket: Socket) => void,
): Promise<'closed' | 'open'> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.on('data', () => undefined); // read what the server sends (SETTINGS, PING, GOAWAY), answer nothing
  await once(socket, 'connect');
  socket.write(bytes);
  onConnect?.(socket);
  const outcome = await Promise.race([
    once(socket, 'close').then(() => 'closed' as const),
    new Promise<'open'>((resolve) => setTimeout(resolve, waitMs, 'open')),
  ]);
  socket.destroy();
  return outcome;
}

describe('what the gRPC port requires of a connection before grpc-js gets it', () => {
  const frame = (length: number, type: number, flags = 0, stream = 0) => {
    const header = Buffer.alloc(9);
    header.writeUIntBE(length, 0, 3);
    header[3] = type;
    header[4] = flags;
    header.writeUInt32BE(stream, 5);
    return Buffer.concat([header, Buffer.alloc(length)]);
  };
  const cases: Array<[string, Buffer, ReturnType<typeof prefaceProgress>]> = [
    ['nothing yet', Buffer.alloc(0), 'magic'],
    ['part of the preface', PREFACE.subarray(0, 10), 'magic'],
    ['HTTP/1', Buffer.from('GET / HTTP/1.1\r\n'), 'invalid'],
    ['the preface alone', PREFACE, 'settings'],
    ['the preface and half a frame header', Buffer.concat([PREFACE, SETTINGS.subarray(0, 5)]), 'settings'],
    ['the preface and an empty SETTINGS', Buffer.concat([PREFACE, SETTINGS]), 'complete'],
    ['the preface and two settings', Buffer.concat([PREFACE, frame(12, 4)]), 'complete'],
    ['… of which one has arrived', Buffer.concat([PREFACE, frame(12, 4)]).subarray(0, 24 + 9 + 6), 'settings'],
    ['the preface, SETTINGS and a stream', Buffer.concat([PREFACE, SETTINGS, frame(10, 1, 4, 1)]), 'complete'],
    ['the preface and a HEADERS frame first', Buffer.concat([PREFACE, frame(10, 1, 4, 1)]), 'invalid'],
    ['the preface and a SETTINGS acknowledgement', Buffer.concat([PREFACE, frame(0, 4, 1)]), 'invalid'],
    ['the preface and SETTINGS on a stream', Buffer.concat([PREFACE, frame(0, 4, 0, 1)]), 'invalid'],
    ['the preface and SETTINGS of 7 octets', Buffer.concat([PREFACE, frame(7, 4)]), 'invalid'],
    ['the preface and SETTINGS longer than a frame may be', Buffer.concat([PREFACE, frame(16_386, 4)]), 'invalid'],
  ];
  for (const [what, bytes, expected] of cases) {
    it(`${what}: ${expected}`, () => assert.equal(prefaceProgress(bytes), expected));
  }
});

describe('addr-server gRPC connections', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer('10.1.0.8', [
      '--idle-timeout-ms',
      '800',
      '--keepalive-ms',
      '60000',
      '--max-connections',
      '3',
    ]);
  });
  after(() => server.stop());

  it('closes a connection that sends something other than HTTP/2 at once', async () => {
    assert.equal(
      await closedByServer(server.grpcPort, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 5000),
      'closed',
    );
    assert.equal(
      await closedByServer(server.grpcPort, Buffer.from([0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]), 5000),
      'closed',
    );
  });

  it('closes a connection that stalls half-way through the HTTP/2 preface', async () => {
    assert.equal(await closedByServer(server.grpcPort, PREFACE.subarray(0, 10), 10_000), 'closed');
  });

  it('closes an idle HTTP/2 connection after --idle-timeout-ms', async () => {
    assert.equal(await closedByServer(server.grpcPort, Buffer.concat([PREFACE, SETTINGS]), 10_000), 'closed');
  });

  it('closes the connection after a protocol error', async () => {
    assert.equal(
      await closedByServer(server.grpcPort, Buffer.concat([PREFACE, SETTINGS, DATA_ON_STREAM_0]), 5000),
      'closed',
    );
  });
});

describe('addr-server gRPC connections, with the default bounds', () => {
  it('refuses connections beyond --max-connections, and still answers once they are gone', async () => {
    // Its own server: the handshake bound is 10 s here, so the three held places outlast the check.
    const server = await startServer('10.1.0.8', ['--max-connections', '3']);
    try {
      const held = await Promise.all(
        [1, 2, 3].map(async () => {
          const socket = connect(server.grpcPort, '127.0.0.1');
          socket.on('error', () => undefined);
          await once(socket, 'connect');
          socket.write(PREFACE.subarray(0, 4)); // holds a place until the handshake times out
          return socket;
        }),
      );
      try {
        assert.equal(
          await closedByServer(server.grpcPort, Buffer.alloc(0), 5000),
          'closed',
          'a fourth connection is refused',
        );
      } finally {
        held.forEach((socket) => socket.destroy());
      }
      // The server frees the places as it sees the closes: ask until it answers (bounded).
      let answer: string | undefined;
      for (let attempt = 0; attempt < 50 && answer === undefined; attempt++) {
        answer = await getAddr(server.grpcPort).then(
          (reply) => reply.addr,
          () => new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 100)),
        );
      }
      assert.equal(answer, '10.1.0.8');
    } finally {
      await server.stop();
    }
  });

  it('closes connections that send the HTTP/2 preface and then no SETTINGS within 2 s, so that a wave of them does not hold --max-connections', async () => {
    // Defaults otherwise (idle 60 s, keepalive 30 s + 10 s): such connections used to hold their place ~40 s.
    const server = await startServer('10.1.0.8', ['--max-connections', '3']);
    try {
      const wave = await Promise.all(
        [1, 2, 3].map(async () => {
          const socket = connect(server.grpcPort, '127.0.0.1');
          socket.on('error', () => undefined);
          socket.on('data', () => undefined);
          const closed = once(socket, 'close').then(() => 'closed' as const);
          await once(socket, 'connect');
          socket.write(PREFACE);
          return { socket, closed };
        }),
      );
      try {
        const outcomes = await Promise.race([
          Promise.all(wave.map((held) => held.closed)),
          new Promise<'open'>((resolve) => setTimeout(resolve, 10_000, 'open')),
        ]);
        assert.deepEqual(outcomes, ['closed', 'closed', 'closed'], 'the server closed all three within 10 s');
      } finally {
        wave.forEach((held) => held.socket.destroy());
      }
      // A probe like the kubelet's gRPC readiness probe, on a connection of its own: in.
      assert.equal(await healthCheck(server.grpcPort), 'SERVING');
    } finally {
      await server.stop();
    }
  });
});

describe('addr-server --max-connections-per-peer', () => {
  it("refuses a peer's connections beyond its share, and still takes another peer's", async () => {
    const server = await startServer('10.1.0.8', ['--max-connections', '10', '--max-connections-per-peer', '2']);
    const from = async (localAddress: string) => {
      const socket = connect({ port: server.grpcPort, host: '127.0.0.1', localAddress });
      socket.on('error', () => undefined);
      await once(socket, 'connect');
      socket.write(PREFACE.subarray(0, 4)); // holds a place until the handshake times out (10 s)
      return socket;
    };
    const held = [await from('127.0.0.2'), await from('127.0.0.2')];
    try {
      const third = connect({ port: server.grpcPort, host: '127.0.0.1', localAddress: '127.0.0.2' });
      third.on('error', () => undefined);
      const outcome = await Promise.race([
        once(third, 'close').then(() => 'closed'),
        new Promise((resolve) => setTimeout(resolve, 5000, 'open')),
      ]);
      third.destroy();
      assert.equal(outcome, 'closed', 'a third connection from 127.0.0.2 is refused');
      assert.equal(await healthCheck(server.grpcPort), 'SERVING', 'a connection from 127.0.0.1 is taken');
    } finally {
      held.forEach((socket) => socket.destroy());
      await server.stop();
    }
  });
});

describe('addr-server keepalive', () => {
  it('closes the connection of a peer that does not answer its pings (one that hung or vanished)', async () => {
    const server = await startServer('10.1.0.8', [
      '--idle-timeout-ms',
      '0',
      '--keepalive-ms',
      '500',
      '--keepalive-timeout-ms',
      '500',
    ]);
    try {
      assert.equal(await closedByServer(server.grpcPort, Buffer.concat([PREFACE, SETTINGS]), 10_000), 'closed');
    } finally {
      await server.stop();
    }
  });

  it('keeps the connection of a peer that answers its pings', async () => {
    const server = await startServer('10.1.0.8', [
      '--idle-timeout-ms',
      '0',
      '--keepalive-ms',
      '300',
      '--keepalive-timeout-ms',
      '300',
    ]);
    try {
      const { connect: h2connect } = await import('node:http2');
      const session = h2connect(`http://127.0.0.1:${server.grpcPort}`); // node answers pings by itself
      await once(session, 'connect');
      const closed = once(session, 'close').then(() => 'closed');
      const outcome = await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2000, 'open'))]);
      session.destroy();
      assert.equal(outcome, 'open');
    } finally {
      await server.stop();
    }
  });
});

describe('addr-server HTTP connections', () => {
  it('answers 408 and closes a request whose headers are still trickling in after 10 s (slowloris)', async () => {
    // The documented bound is 10 s for the headers. Node enforces it on a sweep that runs every 30 s by
    // default (connectionsCheckingInterval), so such a client used to be closed 30 s in or later.
    const server = await startServer('10.1.0.8');
    const socket = connect(server.httpPort, '127.0.0.1');
    socket.on('error', () => undefined);
    let answer = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
    let line = 0;
    const trickle = setInterval(() => socket.write(`X-Slow-${++line}: 1\r\n`), 2000);
    try {
      await once(socket, 'connect');
      socket.write('GET /addr HTTP/1.1\r\nHost: addr-server\r\n');
      const outcome = await Promise.race([
        once(socket, 'close').then(() => 'closed'),
        new Promise((resolve) => setTimeout(resolve, 25_000, 'still open after 25 s')),
      ]);
      assert.equal(outcome, 'closed');
      assert.match(answer, /^HTTP\/1\.1 408 /);
    } finally {
      clearInterval(trickle);
      socket.destroy();
      await server.stop();
    }
  });
});
