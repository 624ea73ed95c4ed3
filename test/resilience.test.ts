// A pod going away never kills a client: it prints errors, then carries on when a server is back.
import assert from 'node:assert/strict';
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
  assert.deepEqual(got.map(([n]) => n), [1, 2, 3, 4, 5, 6], 'numbering resumes after the errors');
  assert.ok(got.some(([, ip]) => ip === '10.1.0.8'), 'the first server answered');
  assert.ok(got.some(([, ip]) => ip === '10.1.0.9'), 'the restarted server answered');
  const firstError = proc.lines.findIndex((line) => line.startsWith('Error: '));
  const lastBefore = proc.lines.findIndex((line) => line.startsWith('#2: '));
  assert.ok(firstError > lastBefore, 'errors come between the replies of the two servers');
}

describe('a client whose server is killed and restarted on the same port', () => {
  it('client-grpc prints errors, resumes numbering, and exits 0 at --count', () =>
    survivesRestart('client-grpc', (ports) => [`127.0.0.1:${ports.grpc}`, '--deadline-ms', '1000']));

  it('client-http prints errors, resumes numbering, and exits 0 at --count', () =>
    survivesRestart('client-http', (ports) => [`http://127.0.0.1:${ports.http}/addr`]));
});
