// A pod that stops answering without dying (SIGSTOP): the mesh finds it out through its PINGs, stops
// sending it calls (failure accrual), ends each call at its caller's deadline, and takes the pod back
// once it answers a probe again. Real out/server pods on 127.0.0.1.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { connect } from 'node:http2';
import { after, describe, it } from 'node:test';
import { BALANCERS } from '../src/lab/data-plane/balancer.js';
import { Endpoints } from '../src/lab/data-plane/endpoints.js';
import { MeshProxy, type MeshOptions } from '../src/lab/data-plane/mesh-proxy.js';
import { addrClient } from './support/grpc.js';
import { startServer, type ServerProcess } from './support/processes.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Signals a pod that may have exited already. */
function signal(server: ServerProcess, name: NodeJS.Signals): void {
  if (server.child.exitCode === null && server.child.signalCode === null)
    process.kill(server.child.pid as number, name);
}

const pods: ServerProcess[] = [];
async function pod(ip: string): Promise<ServerProcess> {
  const server = await startServer(ip);
  pods.push(server);
  return server;
}
after(async () => {
  for (const server of pods) {
    signal(server, 'SIGCONT'); // a stopped process cannot act on SIGTERM
    await server.stop('SIGKILL');
  }
});

async function meshOver(servers: ServerProcess[], options: MeshOptions) {
  const endpoints = new Endpoints();
  for (const [i, server] of servers.entries())
    endpoints.add({
      ip: `10.1.0.${8 + i}`,
      address: '127.0.0.1',
      httpPort: server.httpPort,
      grpcPort: server.grpcPort,
    });
  const mesh = new MeshProxy(endpoints, options);
  const events: string[] = [];
  mesh.on('event', (line) => events.push(line));
  const port = await mesh.listen(0);
  return { mesh, port, events };
}

/** One GetAddr through grpc-js: the pod that answered, or the error's code and details. */
function getAddr(client: ReturnType<typeof addrClient>, deadlineMs?: number) {
  return new Promise<{ addr?: string; code?: grpc.status; details?: string }>((resolve) =>
    client.getAddr({}, deadlineMs ? { deadline: Date.now() + deadlineMs } : {}, (error, reply) =>
      resolve(error ? { code: error.code, details: error.details } : { addr: reply?.addr }),
    ),
  );
}

/** A GetAddr over plain HTTP/2 that keeps no timer of its own: only the mesh can end it at the deadline. */
function rawGetAddr(port: number, grpcTimeout: string, waitMs = 10_000) {
  return new Promise<{ grpcStatus: number; message: string }>((resolve, reject) => {
    const session = connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const guard = setTimeout(() => {
      session.destroy();
      reject(new Error(`no answer within ${waitMs} ms`));
    }, waitMs);
    const request = session.request({
      ':method': 'POST',
      ':path': '/addr.Addr/GetAddr',
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': grpcTimeout,
    });
    let headers: Record<string, unknown> = {};
    request.on('response', (received) => (headers = received));
    request.on('trailers', (received) => (headers = { ...headers, ...received }));
    request.on('close', () => {
      clearTimeout(guard);
      session.close();
      resolve({
        grpcStatus: Number(headers['grpc-status']),
        message: decodeURIComponent(String(headers['grpc-message'] ?? '')),
      });
    });
    request.resume();
    request.end(Buffer.from([0, 0, 0, 0, 0]));
  });
}

for (const balancer of BALANCERS) {
  describe(`the mesh (${balancer}) and a pod stopped with SIGSTOP`, () => {
    const back = balancer === 'round-robin' ? ', and takes it back once it answers' : '';
    it(`sends the stopped pod a few calls at most and keeps answering from the other${back}`, async () => {
      const [live, stopped] = [await pod('10.1.0.8'), await pod('10.1.0.9')];
      const { mesh, port, events } = await meshOver([live, stopped], {
        balancer,
        keepalive: { intervalMs: 250, timeoutMs: 1000 },
      });
      const client = addrClient(port);
      const sentToStopped = () => mesh.requests.get('10.1.0.9') ?? 0;
      try {
        const seen = new Set<string | undefined>();
        for (let i = 0; i < 20 && seen.size < 2; i++) seen.add((await getAddr(client, 5000)).addr);
        assert.deepEqual([...seen].sort(), ['10.1.0.8', '10.1.0.9'], 'both pods answer before the stop');

        signal(stopped, 'SIGSTOP');
        const before = sentToStopped();
        const outcomes = [];
        for (let i = 0; i < 30; i++) {
          outcomes.push(await getAddr(client, 3000));
          await pause(100);
        }
        const failed = outcomes.filter((o) => o.code !== undefined);
        const context = `\noutcomes: ${JSON.stringify(outcomes)}\nmesh: ${events.join('\n')}`;
        assert.ok(sentToStopped() - before <= 5, `the stopped pod got ${sentToStopped() - before} calls${context}`);
        assert.ok(failed.length <= 5, `${failed.length} of 30 calls failed${context}`);
        assert.ok(
          outcomes.every((o) => o.addr === '10.1.0.8' || o.code !== undefined),
          `only the live pod answers${context}`,
        );
        for (const { code } of failed)
          assert.ok(
            code === grpc.status.UNAVAILABLE || code === grpc.status.DEADLINE_EXCEEDED,
            `code ${code}${context}`,
          );
        assert.ok(
          events.some((line) => /10\.1\.0\.9 .*out of the balancer/.test(line)),
          `the mesh says it set the pod aside${context}`,
        );

        // With p2c-ewma the pod comes back as its latency peak (the calls it swallowed) decays over tens of
        // seconds, as with Linkerd; round-robin probes it as soon as the penalty is over.
        if (balancer !== 'round-robin') return;
        signal(stopped, 'SIGCONT');
        let answered = false;
        for (let i = 0; i < 150 && !answered; i++) {
          answered = (await getAddr(client, 3000)).addr === '10.1.0.9';
          await pause(100);
        }
        assert.ok(answered, `the pod answers calls again after SIGCONT\nmesh: ${events.join('\n')}`);
        assert.ok(
          events.some((line) => /10\.1\.0\.9 answered its probe: back in the balancer/.test(line)),
          events.join('\n'),
        );
      } finally {
        signal(stopped, 'SIGCONT');
        client.close();
        await mesh.close();
      }
    });
  });
}

describe('the mesh and its only pod stopped', () => {
  it("ends a call at the caller's deadline with DEADLINE_EXCEEDED, even for a caller without a timer, and sets the pod aside after 7", async () => {
    const stopped = await pod('10.1.0.8');
    // PINGs far apart, so that only the deadlines can tell
    const { mesh, port, events } = await meshOver([stopped], { keepalive: { intervalMs: 60_000, timeoutMs: 60_000 } });
    try {
      signal(stopped, 'SIGSTOP');
      const timedOut = await Promise.all(Array.from({ length: 7 }, () => rawGetAddr(port, '300m')));
      for (const outcome of timedOut) {
        assert.equal(outcome.grpcStatus, grpc.status.DEADLINE_EXCEEDED, JSON.stringify(outcome));
        assert.match(outcome.message, /10\.1\.0\.8 did not answer within 300 ms/);
      }
      const refused = await rawGetAddr(port, '5S');
      assert.equal(refused.grpcStatus, grpc.status.UNAVAILABLE, JSON.stringify(refused));
      assert.match(refused.message, /all 1 endpoints are failing/);
      assert.equal(mesh.requests.get('10.1.0.8'), 7, 'the eighth call never reached the pod');
      assert.ok(
        events.some((line) => /10\.1\.0\.8 failed 7 calls in a row/.test(line)),
        events.join('\n'),
      );
    } finally {
      signal(stopped, 'SIGCONT');
      await mesh.close();
    }
  });

  it('ends a call without a deadline with UNAVAILABLE once the pod leaves a PING unanswered', async () => {
    const stopped = await pod('10.1.0.8');
    const { mesh, port, events } = await meshOver([stopped], { keepalive: { intervalMs: 250, timeoutMs: 1000 } });
    const client = addrClient(port);
    try {
      assert.equal((await getAddr(client, 5000)).addr, '10.1.0.8');
      signal(stopped, 'SIGSTOP');
      const outcome = await Promise.race([
        getAddr(client),
        pause(10_000).then(() => ({ code: undefined, details: 'still waiting after 10 s' })),
      ]);
      assert.equal(outcome.code, grpc.status.UNAVAILABLE, JSON.stringify(outcome));
      assert.match(outcome.details ?? '', /10\.1\.0\.8 went silent: no answer to a PING within 1000 ms/);
      assert.ok(
        events.some((line) => /10\.1\.0\.8 no answer to a PING within 1000 ms: out of the balancer/.test(line)),
        events.join('\n'),
      );
    } finally {
      signal(stopped, 'SIGCONT');
      client.close();
      await mesh.close();
    }
  });
});
