// In-process pods for the mesh's tests: grpc-js servers on 127.0.0.1 that answer GetAddr as told (after a
// delay, or with an error status) and serve the health service, capped at 100 streams per connection
// as addr-server is; and a mesh over them that records its events.
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation, service as healthService } from 'grpc-health-check';
import { loadAddrProto, type AddrReply } from '../../src/common/proto.js';
import { Endpoints } from '../../src/lab/data-plane/endpoints.js';
import { Mesh, type MeshEvents, type MeshOptions } from '../../src/lab/data-plane/mesh.js';
import { addrProtoFile } from './grpc.js';

const { Addr } = loadAddrProto(addrProtoFile);

export interface PodBehaviour {
  delayMs?: number;
  /** Answer with this status instead of a reply. */
  fail?: grpc.status;
}

export interface TestPod {
  ip: string;
  port: number;
  server: grpc.Server;
  behaviour: PodBehaviour;
  /** GetAddr calls this pod answered or failed. */
  calls: number;
}

export async function startPod(ip: string, behaviour: PodBehaviour = {}): Promise<TestPod> {
  const server = new grpc.Server({ 'grpc.max_concurrent_streams': 100 });
  const pod: TestPod = { ip, port: 0, server, behaviour, calls: 0 };
  server.addService(Addr.service, {
    getAddr(_call: grpc.ServerUnaryCall<unknown, AddrReply>, callback: grpc.sendUnaryData<AddrReply>) {
      pod.calls += 1;
      const answer = () =>
        pod.behaviour.fail === undefined
          ? callback(null, { addr: ip, pod: ip })
          : callback({ code: pod.behaviour.fail, details: `${ip} fails on purpose` });
      if (pod.behaviour.delayMs) setTimeout(answer, pod.behaviour.delayMs);
      else answer();
    },
  });
  new HealthImplementation({ '': 'SERVING' }).addToServer(server);
  pod.port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return pod;
}

export function endpointOf(pod: TestPod) {
  return { ip: pod.ip, address: '127.0.0.1', httpPort: 0, grpcPort: pod.port };
}

export type Recorded = { [K in keyof MeshEvents]: { name: K; at: number; data: MeshEvents[K][0] } }[keyof MeshEvents];

const EVENT_NAMES: Array<keyof MeshEvents> = [
  'endpoints',
  'request',
  'response',
  'tripped',
  'recovered',
  'connected',
  'disconnected',
  'stall',
  'failfast',
];

/** A mesh over `pods` on a port of its own, its events recorded in order, and a client to it. */
export async function meshOver(pods: TestPod[], options: MeshOptions = {}) {
  const endpoints = new Endpoints();
  for (const pod of pods) endpoints.add(endpointOf(pod));
  const mesh = new Mesh(endpoints, options);
  const events: Recorded[] = [];
  for (const name of EVENT_NAMES) {
    const record = (data: unknown) => events.push({ name, at: performance.now(), data } as Recorded);
    mesh.on(name, record);
  }
  const port = await mesh.listen(0);
  const client = new Addr(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    mesh,
    endpoints,
    port,
    events,
    client,
    /** The recorded events of one kind. */
    of<K extends keyof MeshEvents>(name: K): Array<MeshEvents[K][0]> {
      return events.filter((e) => e.name === name).map((e) => e.data as MeshEvents[K][0]);
    },
    async close() {
      client.close();
      await mesh.close();
    },
  };
}

export interface CallResult {
  addr?: string;
  code?: grpc.status;
  details?: string;
}

/** One GetAddr through `client`: who answered, or the error's code and details. */
export function getAddr(client: InstanceType<typeof Addr>, deadlineMs = 5000): Promise<CallResult> {
  return new Promise((resolve) =>
    client.getAddr({}, { deadline: Date.now() + deadlineMs }, (error, reply) =>
      resolve(error ? { code: error.code, details: error.details } : { addr: reply?.addr }),
    ),
  );
}

export const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health') as unknown as new (
  target: string,
  credentials: grpc.ChannelCredentials,
) => grpc.Client & {
  watch(request: { service: string }, options?: grpc.CallOptions): grpc.ClientReadableStream<{ status: string }>;
};
