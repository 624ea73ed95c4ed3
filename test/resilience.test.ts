// A pod going away never kills a client: it prints errors, then carries on when a server is back.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { exitWithin, freePort, replies, start, startServer } from './support/processes.js';

type Ports = { http: number; grpc: number };

async function survivesRestart(client: 'client-grpc' | 'client-http', args: (ports: Ports) => string[]) {
  const ports = { http: await freePort(), grpc: await freePort() };
  const first = await startServer('10.1.0.8', [], ports);
  const proc = start(client, [...args(ports), '--count', '6', '--interval', '150']);
  await proc.waitFor(/^#2: /);
  await first.stop('SIGKILL');
  await proc.waitFor(/^Error: /);
  const second = await startServer('10.1.0.9', [], ports);
  const code = await exitWithin(proc, 20_000);
  await second.stop();

  assert.equal(code, 0, proc.lines.join('\n'));
  const got = replies(proc.lines);
  assert.deepEqual(
    got.map(([n]) => n),
    [1, 2, 3, 4, 5, 6],
    'numbering resumes after the errors',
  );
  assert.ok(
    got.some(([, ip]) => ip === '10.1.0.8'),
    'the first server answered',
  );
  assert.ok(
    got.some(([, ip]) => ip === '10.1.0.9'),
    'the restarted server answered',
  );
  const firstError = proc.lines.findIndex((line) => line.startsWith('Error: '));
  const lastBefore = proc.lines.findIndex((line) => line.startsWith('#2: '));
  assert.ok(firstError > lastBefore, 'errors come between the replies of the two servers');
}

describe('client-grpc and a server that accepts the connection but never answers (a hung pod)', () => {
  it('gives up on the stuck connection attempt and gets replies once it connects elsewhere', async () => {
    const server = await startServer('10.1.0.9');
    // An L4 balancer in front: the first connection goes to a "pod" whose process hangs (the kernel
    // accepts, nothing speaks HTTP/2); every later one to the real server.
    let connections = 0;
    const held: Socket[] = [];
    const front = createServer((socket) => {
      socket.on('error', () => undefined);
      if (connections++ === 0) {
        held.push(socket);
        return;
      }
      const upstream = connect(server.grpcPort, '127.0.0.1');
      upstream.on('error', () => socket.destroy());
      socket.pipe(upstream).pipe(socket);
    }).listen(0, '127.0.0.1');
    await once(front, 'listening');
    const { port } = front.address() as { port: number };
    const client = start('client-grpc', [
      `127.0.0.1:${port}`,
      '--count',
      '2',
      '--interval',
      '500',
      '--deadline-ms',
      '1000',
    ]);
    try {
      // Bounded generously: the connection attempt is given 20 s, as gRPC's backoff spec says.
      assert.equal(await exitWithin(client, 60_000), 0, client.lines.join('\n'));
      assert.deepEqual(
        replies(client.lines).map(([, ip]) => ip),
        ['10.1.0.9', '10.1.0.9'],
      );
      assert.ok(
        client.lines.some((line) => line.startsWith('Error: DEADLINE_EXCEEDED')),
        'calls failed while it was stuck',
      );
    } finally {
      held.forEach((socket) => socket.destroy());
      front.close();
      await server.stop();
    }
  });
});

describe('a client whose server is killed and restarted on the same port', () => {
  it('client-grpc prints errors, resumes numbering, and exits 0 at --count', () =>
    survivesRestart('client-grpc', (ports) => [`127.0.0.1:${ports.grpc}`, '--deadline-ms', '1000']));

  it('client-http prints errors, resumes numbering, and exits 0 at --count', () =>
    survivesRestart('client-http', (ports) => [`http://127.0.0.1:${ports.http}/addr`]));
});
