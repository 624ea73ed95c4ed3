// A pod that stops answering without dying (SIGSTOP), and what the mesh does about it with Linkerd's
// settings: PINGs every 10 s with 3 s to answer; failure accrual only when the Service asks for it; no
// deadline of its own unless the route has a request timeout. Real out/server pods on 127.0.0.1.
// (Before, the lab's mesh pinged every 0.5 s, tripped a pod on one missed PING, and ended calls at the
// caller's grpc-timeout counting them as failures: a stopped pod was left in about 1.3 s, which Linkerd
// does not do.)
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { after, describe, it } from 'node:test';
import { Endpoints } from '../../src/lab/data-plane/endpoints.js';
import { LINKERD_ACCRUAL_DEFAULTS } from '../../src/lab/data-plane/linkerd-annotations.js';
import { Mesh, type MeshEvents, type MeshOptions } from '../../src/lab/data-plane/mesh.js';
import { addrClient } from '../support/grpc.js';
import { getAddr } from '../support/mesh-pods.js';
import { startServer, type ServerProcess } from './support/processes.js';
import { waitUntil } from '../support/wait.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Signals a pod that may have exited already (even since its exit code was last looked at). */
function signal(server: ServerProcess, name: NodeJS.Signals): void {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  try {
    process.kill(server.child.pid as number, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
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

type Told = { [K in keyof MeshEvents]: [K, MeshEvents[K][0]] }[keyof MeshEvents];

async function meshOver(servers: ServerProcess[], options: MeshOptions) {
  const endpoints = new Endpoints();
  for (const [i, server] of servers.entries())
    endpoints.add({
      ip: `10.1.0.${8 + i}`,
      address: '127.0.0.1',
      httpPort: server.httpPort,
      grpcPort: server.grpcPort,
    });
  const mesh = new Mesh(endpoints, options);
  const told: Told[] = [];
  for (const name of ['request', 'tripped', 'recovered', 'disconnected', 'stall'] as const)
    mesh.on(name, ((data: never) => told.push([name, data] as Told)) as never);
  const port = await mesh.listen(0);
  const sentTo = (ip: string) => told.filter(([name, data]) => name === 'request' && data.ip === ip).length;
  const of = <K extends keyof MeshEvents>(name: K) =>
    told.filter(([n]) => n === name).map(([, data]) => data as MeshEvents[K][0]);
  return { mesh, endpoints, port, told, sentTo, of };
}

/** Calls one after another, 100 ms apart, each with its own deadline. */
async function calls(client: ReturnType<typeof addrClient>, count: number, deadlineMs: number) {
  const outcomes = [];
  for (let i = 0; i < count; i++) {
    outcomes.push(await getAddr(client, deadlineMs));
    await pause(100);
  }
  return outcomes;
}

describe("the mesh with Linkerd's defaults (p2c-ewma) and a pod stopped with SIGSTOP", () => {
  it('sends the stopped pod one call, whose caller times out, and the rest to the live pod: the peak EWMA keeps it away', async () => {
    const [live, stopped] = [await pod('10.1.0.8'), await pod('10.1.0.9')];
    const { mesh, port, told, sentTo, of } = await meshOver([live, stopped], { balancer: 'p2c-ewma' });
    const client = addrClient(port);
    try {
      // p2c-ewma favours the pod that answered first; ask until both have answered.
      const seen = new Set<string | undefined>();
      for (let i = 0; i < 50 && seen.size < 2; i++) seen.add((await getAddr(client)).addr);
      assert.deepEqual([...seen].sort(), ['10.1.0.8', '10.1.0.9'], 'both pods answer before the stop');

      signal(stopped, 'SIGSTOP');
      const before = sentTo('10.1.0.9');
      const outcomes = await calls(client, 20, 2000);
      const failed = outcomes.filter((o) => o.code !== undefined);
      const context = `\noutcomes: ${JSON.stringify(outcomes)}\nmesh: ${JSON.stringify(told)}`;
      assert.ok(sentTo('10.1.0.9') - before <= 2, `the stopped pod got ${sentTo('10.1.0.9') - before} calls${context}`);
      assert.ok(failed.length <= 2, `${failed.length} of 20 calls failed${context}`);
      for (const { code } of failed) assert.equal(code, grpc.status.DEADLINE_EXCEEDED, context);
      assert.ok(
        outcomes.every((o) => o.addr === '10.1.0.8' || o.code !== undefined),
        `only the live pod answers${context}`,
      );
      assert.equal(of('tripped').length, 0, `no failure accrual without the Service's annotation${context}`);
    } finally {
      signal(stopped, 'SIGCONT');
      client.close();
      await mesh.close();
    }
  });
});

describe('the mesh (round-robin) with failure accrual and a route request timeout, and a pod stopped with SIGSTOP', () => {
  it('fails 7 calls at the request timeout, sets the pod aside, and takes it back when its probe answers after SIGCONT', async () => {
    const [live, stopped] = [await pod('10.1.0.8'), await pod('10.1.0.9')];
    const { mesh, port, told, sentTo, of } = await meshOver([live, stopped], {
      balancer: 'round-robin',
      accrual: LINKERD_ACCRUAL_DEFAULTS, // balancer.linkerd.io/failure-accrual: consecutive
      requestTimeoutMs: 500, // timeout.linkerd.io/request: 500ms
    });
    const client = addrClient(port);
    try {
      const seen = new Set<string | undefined>();
      for (let i = 0; i < 10 && seen.size < 2; i++) seen.add((await getAddr(client)).addr);
      assert.deepEqual([...seen].sort(), ['10.1.0.8', '10.1.0.9']);

      signal(stopped, 'SIGSTOP');
      const before = sentTo('10.1.0.9');
      const outcomes = await calls(client, 24, 5000);
      const context = `\noutcomes: ${JSON.stringify(outcomes)}\nmesh: ${JSON.stringify(told)}`;
      const failed = outcomes.filter((o) => o.code !== undefined);
      const trips = of('tripped');
      // 7 failures trip it; each probe after a penalty (1 s, then 2 s, … plus jitter) fails again.
      assert.deepEqual(
        trips.map(({ ip, cause, failures }) => ({ ip, cause, failures })),
        [
          { ip: '10.1.0.9', cause: 'failures', failures: 7 },
          ...trips.slice(1).map(() => ({ ip: '10.1.0.9', cause: 'probe', failures: 0 })),
        ],
        context,
      );
      assert.ok(trips.length <= 3, `at most two probes within the calls' 5 s: ${trips.length - 1}${context}`);
      const sent = sentTo('10.1.0.9') - before;
      assert.ok(
        sent === 7 + trips.length - 1 || sent === 7 + trips.length,
        `the stopped pod got ${sent} calls${context}`,
      );
      assert.equal(failed.length, sent, context);
      for (const { code, details } of failed) {
        assert.equal(code, grpc.status.DEADLINE_EXCEEDED, context);
        assert.equal(details, 'timed out waiting for response headers: request timeout: 500ms');
      }

      signal(stopped, 'SIGCONT');
      let answered = false;
      for (let i = 0; i < 150 && !answered; i++) {
        answered = (await getAddr(client, 3000)).addr === '10.1.0.9';
        await pause(100);
      }
      assert.ok(answered, `the pod answers calls again after SIGCONT\nmesh: ${JSON.stringify(told)}`);
      assert.deepEqual(
        of('recovered').map((e) => e.ip),
        ['10.1.0.9'],
      );
    } finally {
      signal(stopped, 'SIGCONT');
      client.close();
      await mesh.close();
    }
  });
});

describe('the mesh and its only pod stopped', () => {
  it("ends a call without a deadline with UNAVAILABLE when the pod's connection misses a PING (10 s + 3 s at most)", async () => {
    const stopped = await pod('10.1.0.8');
    const { mesh, port, told, of } = await meshOver([stopped], {});
    const client = addrClient(port);
    try {
      assert.equal((await getAddr(client)).addr, '10.1.0.8');
      signal(stopped, 'SIGSTOP');
      const started = performance.now();
      const outcome = await Promise.race([
        new Promise<{ code?: grpc.status; details?: string }>((resolve) =>
          client.getAddr({}, {}, (error) => resolve(error ? { code: error.code, details: error.details } : {})),
        ),
        pause(20_000).then(() => ({ code: undefined, details: 'still waiting after 20 s' })),
      ]);
      const context = `after ${((performance.now() - started) / 1000).toFixed(1)} s\nmesh: ${JSON.stringify(told)}`;
      assert.equal(outcome.code, grpc.status.UNAVAILABLE, `${JSON.stringify(outcome)} ${context}`);
      assert.match(outcome.details ?? '', /^endpoint 10\.1\.0\.8:\d+: no answer to a PING within 3000 ms$/);
      assert.deepEqual(
        of('disconnected').map(({ ip, cause }) => ({ ip, cause })),
        [{ ip: '10.1.0.8', cause: 'ping' }],
        context,
      );
      assert.equal(of('tripped').length, 0, 'a missed PING drops the connection; it trips no breaker');
    } finally {
      signal(stopped, 'SIGCONT');
      client.close();
      await mesh.close();
    }
  });
});

describe('the mesh and a stopped pod that leaves the endpoints with a call on it', () => {
  it('still ends the call when the PING goes unanswered: the retired connection keeps pinging until its last call ends', async () => {
    const stopped = await pod('10.1.0.8');
    const { mesh, endpoints, port, told } = await meshOver([stopped], {
      keepalive: { intervalMs: 500, timeoutMs: 500 },
    });
    const client = addrClient(port);
    try {
      assert.equal((await getAddr(client)).addr, '10.1.0.8');
      signal(stopped, 'SIGSTOP');
      const call = new Promise<{ code?: grpc.status; details?: string }>((resolve) =>
        client.getAddr({}, {}, (error) => resolve(error ? { code: error.code, details: error.details } : {})),
      );
      await waitUntil('the call sent', () => told.filter(([name]) => name === 'request').length === 2, 2000);
      endpoints.remove('10.1.0.8'); // readiness took it out, say
      const outcome = await Promise.race([
        call,
        pause(10_000).then(() => ({ code: undefined, details: 'still waiting after 10 s' })),
      ]);
      assert.equal(outcome.code, grpc.status.UNAVAILABLE, JSON.stringify(outcome));
      assert.match(outcome.details ?? '', /no answer to a PING within 500 ms$/);
    } finally {
      signal(stopped, 'SIGCONT');
      client.close();
      await mesh.close();
    }
  });
});
