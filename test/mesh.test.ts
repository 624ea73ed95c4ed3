// The lab's mesh proxy relays gRPC calls untouched: status, details, metadata both ways, trailers,
// and the caller's deadline; with no ready endpoint it answers UNAVAILABLE.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import { loadAddrProto, type AddrReply } from '../src/common/proto.js';
import { Endpoints } from '../src/lab/data-plane/endpoints.js';
import { MeshProxy } from '../src/lab/data-plane/mesh-proxy.js';
import { addrProtoFile } from './support/grpc.js';

const { Addr } = loadAddrProto(addrProtoFile);

/** A pod stand-in that echoes what it received: x-echo and the deadline back as headers, a trailer. */
function echoingPod(): grpc.Server {
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
  return server;
}

interface Outcome {
  error: grpc.ServiceError | null;
  reply?: AddrReply;
  headers?: grpc.Metadata;
  trailers?: grpc.Metadata;
}

describe('the mesh proxy', () => {
  const pod = echoingPod();
  const endpoints = new Endpoints();
  const mesh = new MeshProxy(endpoints);
  let client: InstanceType<typeof Addr>;

  before(async () => {
    const port = await new Promise<number>((resolve, reject) =>
      pod.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    endpoints.add({ ip: '10.1.0.8', address: '127.0.0.1', httpPort: 0, grpcPort: port });
    client = new Addr(`127.0.0.1:${await mesh.listen(0)}`, grpc.credentials.createInsecure());
  });
  after(async () => {
    client.close();
    await mesh.close();
    pod.forceShutdown();
  });

  const call = (metadata: grpc.Metadata, deadline: number) =>
    new Promise<Outcome>((resolve) => {
      const outcome: Outcome = { error: null };
      const unary = client.getAddr({}, metadata, { deadline }, (error, reply) =>
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

  it('answers UNAVAILABLE when no endpoint is ready', async () => {
    endpoints.remove('10.1.0.8');
    const { error } = await call(new grpc.Metadata(), Date.now() + 5000);
    assert.equal(error?.code, grpc.status.UNAVAILABLE);
    assert.match(error?.details ?? '', /no ready endpoints/);
  });
});

describe('the mesh proxy balancers', () => {
  /** A pod stand-in that answers GetAddr with `addr` after `delayMs`. */
  async function pod(addr: string, delayMs: number): Promise<{ server: grpc.Server; port: number }> {
    const server = new grpc.Server();
    server.addService(Addr.service, {
      getAddr: (_call: unknown, callback: grpc.sendUnaryData<AddrReply>) =>
        setTimeout(callback, delayMs, null, { addr, pod: addr }),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    return { server, port };
  }

  async function spread(balancer: 'round-robin' | 'p2c-ewma', calls: number): Promise<Record<string, number>> {
    const fast = await pod('10.1.0.8', 0);
    const slow = await pod('10.1.0.9', 250);
    const endpoints = new Endpoints();
    endpoints.add({ ip: '10.1.0.8', address: '127.0.0.1', httpPort: 0, grpcPort: fast.port });
    endpoints.add({ ip: '10.1.0.9', address: '127.0.0.1', httpPort: 0, grpcPort: slow.port });
    const mesh = new MeshProxy(endpoints, { balancer });
    const client = new Addr(`127.0.0.1:${await mesh.listen(0)}`, grpc.credentials.createInsecure());
    const counts: Record<string, number> = {};
    try {
      for (let i = 0; i < calls; i++) {
        const reply = await new Promise<AddrReply | undefined>((resolve, reject) =>
          client.getAddr({}, { deadline: Date.now() + 5000 }, (error, r) => (error ? reject(error) : resolve(r))),
        );
        counts[reply?.addr ?? '?'] = (counts[reply?.addr ?? '?'] ?? 0) + 1;
      }
    } finally {
      client.close();
      await mesh.close();
      fast.server.forceShutdown();
      slow.server.forceShutdown();
    }
    return counts;
  }

  it('round-robin sends every other call to each pod, fast or slow', async () => {
    assert.deepEqual(await spread('round-robin', 20), { '10.1.0.8': 10, '10.1.0.9': 10 });
  });

  it("p2c-ewma (Linkerd's way) sends most calls to the pod that answers faster", async () => {
    const counts = await spread('p2c-ewma', 20);
    assert.ok(
      (counts['10.1.0.8'] ?? 0) >= 15,
      `the fast pod got ${counts['10.1.0.8']} of 20: ${JSON.stringify(counts)}`,
    );
  });
});
