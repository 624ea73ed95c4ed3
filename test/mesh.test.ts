// The lab's mesh, a model of Linkerd's outbound proxy, over in-process pods: it relays calls untouched,
// tells what it does as events, waits for an endpoint and fails fast as Linkerd does, and applies
// failure accrual and a route timeout only when asked.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadAddrProto, type AddrReply } from '../src/common/proto.js';
import { LINKERD_ACCRUAL_DEFAULTS } from '../src/lab/data-plane/linkerd-annotations.js';
import { addrProtoFile } from './support/grpc.js';
import { endpointOf, getAddr, meshOver, startPod, type TestPod } from './support/mesh-pods.js';
import { waitUntil } from './support/wait.js';

const { Addr } = loadAddrProto(addrProtoFile);

/** A pod stand-in that echoes what it received: x-echo and the deadline back as headers, a trailer. */
async function echoingPod(): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(Addr.service, {
    getAddr(call: grpc.ServerUnaryCall<unknown, AddrReply>, callback: grpc.sendUnaryData<AddrReply>) {
      const trailer = new grpc.Metadata();
      trailer.set('x-trailer', 'from-the-pod');
      if (call.metadata.get('x-fail').length > 0) {
        callback({ code: grpc.status.NOT_FOUND, details: 'no such thing', metadata: trailer });
        return;
      }
      const header = new grpc.Metadata();
      header.set('x-echo', String(call.metadata.get('x-echo')[0] ?? ''));
      const deadline = call.getDeadline();
      header.set('x-deadline-ms', String(deadline instanceof Date ? deadline.getTime() : deadline));
      call.sendMetadata(header);
      callback(null, { addr: '10.1.0.8', pod: 'echo' }, trailer);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return { server, port };
}

interface Outcome {
  error: grpc.ServiceError | null;
  reply?: AddrReply;
  headers?: grpc.Metadata;
  trailers?: grpc.Metadata;
}

const pods: TestPod[] = [];
async function pod(ip: string, behaviour: Parameters<typeof startPod>[1] = {}): Promise<TestPod> {
  const started = await startPod(ip, behaviour);
  pods.push(started);
  return started;
}
after(() => pods.forEach((p) => p.server.forceShutdown()));

describe('the mesh relays a call untouched', () => {
  let echo: Awaited<ReturnType<typeof echoingPod>>;
  let mesh: Awaited<ReturnType<typeof meshOver>>;

  before(async () => {
    echo = await echoingPod();
    mesh = await meshOver([{ ip: '10.1.0.8', port: echo.port, server: echo.server, behaviour: {}, calls: 0 }]);
  });
  after(async () => {
    await mesh.close();
    echo.server.forceShutdown();
  });

  const call = (metadata: grpc.Metadata, deadline: number) =>
    new Promise<Outcome>((resolve) => {
      const outcome: Outcome = { error: null };
      const unary = mesh.client.getAddr({}, metadata, { deadline }, (error, reply) =>
        Object.assign(outcome, { error, reply }),
      );
      unary.on('metadata', (headers: grpc.Metadata) => (outcome.headers = headers));
      unary.on('status', (status: grpc.StatusObject) => {
        outcome.trailers = status.metadata;
        setImmediate(() => resolve(outcome)); // the callback runs right after 'status'
      });
    });

  it('passes the reply, metadata both ways, trailers and the deadline through', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('x-echo', 'hello');
    const deadline = Date.now() + 3000;
    const { error, reply, headers, trailers } = await call(metadata, deadline);
    assert.equal(error, null);
    assert.equal(reply?.addr, '10.1.0.8');
    assert.deepEqual(headers?.get('x-echo'), ['hello']);
    assert.deepEqual(trailers?.get('x-trailer'), ['from-the-pod']);
    const seen = Number(headers?.get('x-deadline-ms')[0]);
    // grpc-timeout carries the time left, so the pod's deadline lands within a few ms of the caller's
    assert.ok(
      Number.isFinite(seen) && Math.abs(seen - deadline) < 1000,
      `the pod saw deadline ${seen}, the caller set ${deadline}`,
    );
  });

  it('passes an error status, its details and trailers through', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('x-fail', 'yes');
    const { error } = await call(metadata, Date.now() + 5000);
    assert.equal(error?.code, grpc.status.NOT_FOUND);
    assert.equal(error?.details, 'no such thing');
    assert.deepEqual(error?.metadata.get('x-trailer'), ['from-the-pod']);
  });

  it('tells each call it sends as a request event and its end as a response event, with the same id', async () => {
    const before = mesh.events.length;
    await call(new grpc.Metadata(), Date.now() + 5000);
    const told = mesh.events.slice(before).filter((e) => e.name === 'request' || e.name === 'response');
    assert.deepEqual(
      told.map((e) => e.name),
      ['request', 'response'],
    );
    const [request, response] = told.map((e) => e.data) as [
      { id: number; ip: string },
      { id: number; outcome: string },
    ];
    assert.equal(request.ip, '10.1.0.8');
    assert.equal(response.id, request.id);
    assert.equal(response.outcome, 'success');
  });
});

describe('the mesh with no endpoint ready (fail-fast after 300 ms here; 3 s in Linkerd)', () => {
  it('holds a call until an endpoint is ready, then sends it', async () => {
    const ready = await pod('10.2.0.8');
    const mesh = await meshOver([], { failfastMs: 300 });
    try {
      const pending = getAddr(mesh.client, 5000);
      await waitUntil('the call waits in the mesh', () => mesh.mesh.waiting === 1, 5000);
      mesh.endpoints.add(endpointOf(ready));
      assert.deepEqual(await pending, { addr: '10.2.0.8' });
      assert.deepEqual(mesh.of('endpoints').at(-1)?.ips, ['10.2.0.8']);
      assert.equal(typeof mesh.of('endpoints').at(-1)?.at, 'number');
    } finally {
      await mesh.close();
    }
  });

  it('fails the waiting calls with DEADLINE_EXCEEDED "service in fail-fast", then sheds new ones with UNAVAILABLE until an endpoint is ready', async () => {
    const ready = await pod('10.2.0.9');
    const mesh = await meshOver([], { failfastMs: 300 });
    try {
      const waited = await Promise.all([getAddr(mesh.client, 5000), getAddr(mesh.client, 5000)]);
      for (const outcome of waited) {
        assert.equal(outcome.code, grpc.status.DEADLINE_EXCEEDED, JSON.stringify(outcome));
        assert.match(outcome.details ?? '', /: service in fail-fast$/);
      }
      const shed = await getAddr(mesh.client, 5000);
      assert.equal(shed.code, grpc.status.UNAVAILABLE, JSON.stringify(shed));
      assert.match(shed.details ?? '', /: service unavailable$/);
      mesh.endpoints.add(endpointOf(ready));
      let answered: string | undefined;
      for (let i = 0; i < 50 && !answered; i++) answered = (await getAddr(mesh.client, 2000)).addr;
      assert.equal(answered, '10.2.0.9');
      assert.deepEqual(
        mesh.of('failfast').map((e) => e.state),
        ['entered', 'exited'],
      );
    } finally {
      await mesh.close();
    }
  });
});

describe('failure accrual in the mesh', () => {
  it("is off by default, as in Linkerd: a pod failing every call keeps its share (round-robin's half)", async () => {
    const [good, bad] = [await pod('10.3.0.8'), await pod('10.3.0.9', { fail: grpc.status.UNAVAILABLE })];
    const mesh = await meshOver([good, bad]);
    try {
      const outcomes = [];
      for (let i = 0; i < 30; i++) outcomes.push(await getAddr(mesh.client));
      assert.equal(outcomes.filter((o) => o.code === grpc.status.UNAVAILABLE).length, 15);
      assert.equal(mesh.of('tripped').length, 0);
    } finally {
      await mesh.close();
    }
  });

  it("with the Service's policy, takes a pod out after 7 failures in a row and sends the rest to the other", async () => {
    const [good, bad] = [await pod('10.3.1.8'), await pod('10.3.1.9', { fail: grpc.status.UNAVAILABLE })];
    // A long penalty, so that no probe goes to the failing pod within the test.
    const mesh = await meshOver([good, bad], { accrual: { ...LINKERD_ACCRUAL_DEFAULTS, minPenaltyMs: 60_000 } });
    try {
      const outcomes = [];
      for (let i = 0; i < 30; i++) outcomes.push(await getAddr(mesh.client));
      assert.equal(outcomes.filter((o) => o.code !== undefined).length, 7);
      assert.equal(bad.calls, 7);
      assert.deepEqual(
        mesh.of('tripped').map(({ ip, cause, failures }) => ({ ip, cause, failures })),
        [{ ip: '10.3.1.9', cause: 'failures', failures: 7 }],
      );
    } finally {
      await mesh.close();
    }
  });

  it("counts only Linkerd's failure codes: NOT_FOUND is an answer, INTERNAL a failure", async () => {
    const answering = await pod('10.3.2.8', { fail: grpc.status.NOT_FOUND });
    const mesh = await meshOver([answering], { accrual: { ...LINKERD_ACCRUAL_DEFAULTS, maxFailures: 1 } });
    try {
      for (let i = 0; i < 5; i++) assert.equal((await getAddr(mesh.client)).code, grpc.status.NOT_FOUND);
      assert.equal(mesh.of('tripped').length, 0);
      answering.behaviour.fail = grpc.status.INTERNAL;
      assert.equal((await getAddr(mesh.client)).code, grpc.status.INTERNAL);
      assert.deepEqual(
        mesh.of('tripped').map((e) => e.ip),
        ['10.3.2.8'],
      );
    } finally {
      await mesh.close();
    }
  });
});

describe("the mesh's route timeout (Linkerd's timeout.linkerd.io/request)", () => {
  it('ends a slow call with DEADLINE_EXCEEDED, and counts it as the endpoint failing', async () => {
    const slow = await pod('10.4.0.8', { delayMs: 2000 });
    const mesh = await meshOver([slow], {
      requestTimeoutMs: 200,
      accrual: { ...LINKERD_ACCRUAL_DEFAULTS, maxFailures: 1, minPenaltyMs: 60_000 },
    });
    try {
      const outcome = await getAddr(mesh.client, 10_000);
      assert.equal(outcome.code, grpc.status.DEADLINE_EXCEEDED, JSON.stringify(outcome));
      assert.equal(outcome.details, 'timed out waiting for response headers: request timeout: 200ms');
      assert.deepEqual(
        mesh.of('tripped').map((e) => e.ip),
        ['10.4.0.8'],
      );
    } finally {
      await mesh.close();
    }
  });

  it('leaves the deadline to the caller and the pod when there is none: a caller that gives up is no failure', async () => {
    const slow = await pod('10.4.1.8', { delayMs: 1000 });
    const mesh = await meshOver([slow], { accrual: { ...LINKERD_ACCRUAL_DEFAULTS, maxFailures: 1 } });
    try {
      const outcome = await getAddr(mesh.client, 200);
      assert.equal(outcome.code, grpc.status.DEADLINE_EXCEEDED);
      await waitUntil("the mesh told the call's end", () => mesh.of('response').length > 0, 5000);
      assert.deepEqual(
        mesh.of('response').map((e) => e.outcome),
        ['cancelled'],
      );
      assert.equal(mesh.of('tripped').length, 0);
    } finally {
      await mesh.close();
    }
  });
});

describe('the mesh balancers', () => {
  async function spread(balancer: 'round-robin' | 'p2c-ewma', calls: number): Promise<Record<string, number>> {
    const fast = await pod('10.5.0.8');
    const slow = await pod('10.5.0.9', { delayMs: 250 });
    const mesh = await meshOver([fast, slow], { balancer });
    const counts: Record<string, number> = {};
    try {
      for (let i = 0; i < calls; i++) {
        const { addr } = await getAddr(mesh.client);
        counts[addr ?? '?'] = (counts[addr ?? '?'] ?? 0) + 1;
      }
    } finally {
      await mesh.close();
    }
    return counts;
  }

  it('round-robin sends every other call to each pod, fast or slow', async () => {
    assert.deepEqual(await spread('round-robin', 20), { '10.5.0.8': 10, '10.5.0.9': 10 });
  });

  it("p2c-ewma (Linkerd's way) sends most calls to the pod that answers faster", async () => {
    const counts = await spread('p2c-ewma', 20);
    assert.ok(
      (counts['10.5.0.8'] ?? 0) >= 15,
      `the fast pod got ${counts['10.5.0.8']} of 20: ${JSON.stringify(counts)}`,
    );
  });
});

describe('the mesh and its own event loop stalled (the lab busy), the pods healthy', () => {
  it('does not take a PING answered during the stall for a dead pod', async () => {
    const healthy = await pod('10.1.1.8');
    // PINGs as often as possible: one is nearly always out when a stall begins.
    const mesh = await meshOver([healthy], { keepalive: { intervalMs: 1, timeoutMs: 100 } });
    try {
      assert.equal((await getAddr(mesh.client)).addr, '10.1.1.8');
      for (let i = 0; i < 10; i++) {
        // Blocked from the check phase, just after a turn that sent a PING: three times its timeout.
        await new Promise<void>((resolve) =>
          setImmediate(() => {
            const end = performance.now() + 300;
            while (performance.now() < end);
            resolve();
          }),
        );
        await sleep(5);
      }
      await waitUntil('a stall seen by the keepalive', () => mesh.of('stall').length > 0, 2000);
      assert.deepEqual(mesh.of('disconnected'), [], JSON.stringify(mesh.events.filter((e) => e.name !== 'request')));
      assert.equal((await getAddr(mesh.client)).addr, '10.1.1.8');
    } finally {
      await mesh.close();
    }
  });
});

describe("a pod's connection closing while its PING is due", () => {
  it('is let go quietly: the mesh neither throws nor stops serving', async () => {
    const [leaving, staying] = [await pod('10.1.2.8'), await pod('10.1.2.9')];
    // PINGs as often as possible: one is due whenever a connection closes.
    const mesh = await meshOver([leaving, staying], { keepalive: { intervalMs: 1, timeoutMs: 1000 } });
    try {
      const connections = () => mesh.of('connected').filter(({ ip }) => ip === leaving.ip).length;
      // The race is narrow (the few ms the socket takes to close): many rounds make it all but certain.
      for (let round = 1; round <= 150; round++) {
        await waitUntil(`connection ${round} to the leaving pod`, () => connections() === round, 2000, 1);
        // The endpoint leaves with no call on it: its connection closes at once, its keepalive timer set.
        mesh.endpoints.remove(leaving.ip);
        await sleep(2);
        mesh.endpoints.add(endpointOf(leaving));
      }
      // A PING sent on a closed connection throws from a timer, where nothing catches it: the lab died of
      // it. The test's process would fail this test the same way.
      await sleep(50);
      assert.equal((await getAddr(mesh.client)).code, undefined, 'still answering');
    } finally {
      await mesh.close();
    }
  });
});
