// SIGTERM drains: health turns not-serving, calls in flight finish, new connections stop, exit 0.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, constants } from 'node:http2';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { getAddr, healthCheck } from '../support/grpc.js';
import * as grpc from '@grpc/grpc-js';
import { exitWithin, start, startServer } from './support/processes.js';
import { callsInFlight } from './support/server-metrics.js';

describe('addr-server on SIGTERM', () => {
  it('reports not-serving while the call in flight completes, then exits 0', async () => {
    const server = await startServer('10.1.0.8', ['--delay-ms', '1500', '--shutdown-delay-ms', '800']);
    const inFlight = getAddr(server.grpcPort);
    await callsInFlight(server, 1);
    server.child.kill('SIGTERM');
    await server.waitFor(/msg="shutting down"/);

    const health = await fetch(`http://127.0.0.1:${server.httpPort}/health`);
    assert.equal(health.status, 503);
    assert.equal(await healthCheck(server.grpcPort), 'NOT_SERVING');
    assert.equal(await healthCheck(server.grpcPort, 'addr.Addr'), 'NOT_SERVING');

    assert.deepEqual(await inFlight, { addr: '10.1.0.8', pod: 'pod-10.1.0.8' });
    assert.equal(await exitWithin(server, 10_000), 0);
    assert.ok(server.lines.some((line) => /msg=stopped/.test(line)));
  });

  it('refuses new calls once draining, yet finishes the ones in flight', async () => {
    const server = await startServer('10.1.0.8', ['--delay-ms', '1500']);
    const inFlight = getAddr(server.grpcPort);
    await callsInFlight(server, 1);
    server.child.kill('SIGTERM');
    await server.waitFor(/msg="shutting down"/);
    await assert.rejects(getAddr(server.grpcPort), /UNAVAILABLE/);
    assert.equal((await inFlight).addr, '10.1.0.8');
    assert.equal(await exitWithin(server, 10_000), 0);
  });

  it('cuts calls that outlast the grace period, then exits 0', async () => {
    const server = await startServer('10.1.0.8', ['--delay-ms', '10000', '--grace-ms', '300']);
    const inFlight = getAddr(server.grpcPort).then(
      () => 'answered',
      (error: { code?: number }) => error.code,
    );
    await callsInFlight(server, 1);
    server.child.kill('SIGTERM');
    assert.equal(await exitWithin(server, 5000), 0);
    // Cut: reset by the server (CANCELLED) or, if the process was faster, the connection gone (UNAVAILABLE).
    assert.ok(
      [grpc.status.CANCELLED, grpc.status.UNAVAILABLE].includes((await inFlight) as number),
      `the call ended with ${await inFlight}`,
    );
    assert.ok(server.lines.some((line) => /grace period over/.test(line)));
  });

  it('exits by the end of the grace period even when a peer has stopped reading', async () => {
    const server = await startServer('10.1.0.8', ['--delay-ms', '60000', '--grace-ms', '500']);
    // A client with calls in flight and a Health/Watch stream open, then suspended (kill -STOP).
    const peer = start('client-grpc', [`127.0.0.1:${server.grpcPort}`, '--interval', '10', '--deadline-ms', '60000']);
    await callsInFlight(server, 1);
    peer.child.kill('SIGSTOP');
    try {
      server.child.kill('SIGTERM');
      // Generous: the bound under test is --grace-ms (0.5 s); before, such a peer held the server for 40 s.
      assert.equal(await exitWithin(server, 10_000), 0);
    } finally {
      peer.child.kill('SIGCONT');
      await peer.stop('SIGKILL');
    }
  });

  it('sends GOAWAY on an open HTTP/2 connection', async () => {
    const server = await startServer('10.1.0.8');
    const session = connect(`http://127.0.0.1:${server.grpcPort}`);
    await once(session, 'remoteSettings');
    const goaway = once(session, 'goaway');
    server.child.kill('SIGTERM');
    const [code] = (await goaway) as [number];
    assert.equal(code, constants.NGHTTP2_NO_ERROR);
    session.destroy();
    assert.equal(await exitWithin(server, 10_000), 0);
  });

  it('tells a connection opened just as the stop begins to go away at once, and does not wait out the grace period', async () => {
    // The race: SIGTERM while the connection's HTTP/2 preface is still on its way. Each round is one
    // chance to hit it; a connection the server never took (still in the kernel's queue when it stopped
    // listening) is reset, but one it spoke HTTP/2 on must get GOAWAY.
    const ROUNDS = 20;
    let goaways = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const server = await startServer('10.1.0.8'); // --grace-ms 20000 by default
      const session = connect(`http://127.0.0.1:${server.grpcPort}`);
      session.on('error', () => undefined);
      let spokeHttp2 = false;
      session.once('remoteSettings', () => (spokeHttp2 = true));
      const ended = new Promise<'goaway' | 'closed'>((resolve) => {
        session.once('goaway', () => resolve('goaway'));
        session.once('close', () => resolve('closed'));
      });
      try {
        await once(session, 'connect');
        server.child.kill('SIGTERM');
        const outcome = await Promise.race([ended, sleep(2000).then(() => 'still open after 2 s')]);
        if (spokeHttp2) assert.equal(outcome, 'goaway', `round ${round}`);
        else assert.notEqual(outcome, 'still open after 2 s', `round ${round}`);
        if (outcome === 'goaway') goaways += 1;
        assert.equal(await exitWithin(server, 5000), 0, `round ${round}`);
        assert.ok(
          !server.lines.some((line) => /grace period over/.test(line)),
          `round ${round}: ${server.lines.join('\n')}`,
        );
      } finally {
        session.destroy();
        await server.stop('SIGKILL');
      }
    }
    assert.ok(goaways > 0, `no round of ${ROUNDS} got GOAWAY`);
  });

  it('stops on SIGINT too', async () => {
    const server = await startServer('10.1.0.8');
    server.child.kill('SIGINT');
    assert.equal(await exitWithin(server, 10_000), 0);
  });
});
