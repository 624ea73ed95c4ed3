// A pod going away never kills a client: it prints errors, then carries on when a server is back.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { parseReplyLine } from '../../src/common/output.js';
import { exitWithin, freePort, replies, start, startServer, type ServerProcess } from './support/processes.js';

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
  // The whole story in order: replies from the first server, then only errors while none is up, then
  // replies from the second — never a reply from the first after an error, nor from the second before.
  const story = proc.lines.flatMap((line) => {
    const reply = parseReplyLine(line);
    if (!reply) return [];
    return ['error' in reply ? 'error' : reply.ip];
  });
  assert.deepEqual(
    story.filter((step, i) => step !== story[i - 1]),
    ['10.1.0.8', 'error', '10.1.0.9'],
    proc.lines.join('\n'),
  );
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
      '--connect-timeout-ms',
      '2000',
    ]);
    try {
      // Bounded below the default --connect-timeout-ms (20 s, gRPC's MIN_CONNECT_TIMEOUT), so that this
      // fails if the 2 s given here are not what replaced the stuck channel.
      assert.equal(await exitWithin(client, 15_000), 0, client.lines.join('\n'));
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

describe('client-grpc and a pod that hangs with its connection open (SIGSTOP)', () => {
  /** Runs client-grpc against a server, stops the server once replies flow, and returns the first error line. */
  async function firstErrorAfterStop(args: string[]): Promise<string> {
    const server = await startServer('10.1.0.8');
    const client = start('client-grpc', [`127.0.0.1:${server.grpcPort}`, '--interval', '100', ...args]);
    try {
      await client.waitFor(/^#3: /);
      signal(server, 'SIGSTOP');
      const [line] = await client.waitFor(/^Error: .*/, 20_000);
      signal(server, 'SIGCONT');
      await client.waitFor(new RegExp(`^#${replies(client.lines).length + 1}: 10\\.1\\.0\\.8$`), 30_000);
      return line;
    } finally {
      signal(server, 'SIGCONT');
      assert.equal(await client.stop(), 0, 'stops cleanly');
      await server.stop();
    }
  }

  it('by default, keepalive finds the hung pod before the call reaches its deadline: UNAVAILABLE, then replies again', async () => {
    assert.match(await firstErrorAfterStop([]), /^Error: UNAVAILABLE/);
  });

  it('without keepalive (--keepalive-ms 0), only the deadline ends the call', async () => {
    assert.match(
      await firstErrorAfterStop(['--keepalive-ms', '0', '--deadline-ms', '1500']),
      /^Error: DEADLINE_EXCEEDED/,
    );
  });
});

/** Signals a server that may have exited already. */
function signal(server: ServerProcess, name: NodeJS.Signals): void {
  if (server.child.exitCode === null && server.child.signalCode === null)
    process.kill(server.child.pid as number, name);
}
