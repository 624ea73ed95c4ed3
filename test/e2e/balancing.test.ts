// client-grpc over two servers: round_robin spreads the calls, pick_first sticks to one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { replies, run, startServer, type ServerProcess } from './support/processes.js';

describe('client-grpc load-balancing policy', () => {
  const servers: ServerProcess[] = [];
  let target: string;
  before(async () => {
    servers.push(await startServer('10.1.0.1'), await startServer('10.1.0.2'));
    target = `ipv4:${servers.map((s) => `127.0.0.1:${s.grpcPort}`).join(',')}`;
  });
  after(() => Promise.all(servers.map((s) => s.stop())));

  it('with --lb round_robin, both servers answer', async () => {
    const { code, lines } = await run('client-grpc', [
      target,
      '--lb',
      'round_robin',
      '--count',
      '8',
      '--interval',
      '20',
    ]);
    assert.equal(code, 0);
    const ips = new Set(replies(lines).map(([, ip]) => ip));
    assert.deepEqual([...ips].sort(), ['10.1.0.1', '10.1.0.2']);
  });

  it('with pick_first (the default), one server answers every call', async () => {
    const { code, lines } = await run('client-grpc', [target, '--count', '8', '--interval', '20']);
    assert.equal(code, 0);
    const got = replies(lines);
    assert.equal(got.length, 8);
    assert.equal(new Set(got.map(([, ip]) => ip)).size, 1);
  });
});
