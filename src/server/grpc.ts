// The gRPC side of addr-server: addr.Addr/GetAddr, the standard health service, and server reflection.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import { loadAddrProto, loaderOptions, type AddrReply } from '../common/proto.js';
import type { PodIdentity } from './identity.js';
import { reflectionService } from './reflection.js';

export interface GrpcOptions {
  pod: PodIdentity;
  delayMs: number;
  /** Server-side max connection age (0: off): makes clients reconnect, and so re-balance, periodically. */
  maxConnectionAgeMs: number;
  protoFile?: string;
}

export interface AddrGrpcServer {
  server: grpc.Server;
  health: HealthImplementation;
  setServing(serving: boolean): void;
}

const ADDR_SERVICE = 'addr.Addr';

export function createGrpcServer({ pod, delayMs, maxConnectionAgeMs, protoFile }: GrpcOptions): AddrGrpcServer {
  const { definition, Addr } = loadAddrProto(protoFile);
  const reply: AddrReply = { addr: pod.ip, pod: pod.name };

  const server = new grpc.Server(
    maxConnectionAgeMs > 0
      ? { 'grpc.max_connection_age_ms': maxConnectionAgeMs, 'grpc.max_connection_age_grace_ms': 10_000 }
      : {},
  );
  server.addService(Addr.service, {
    getAddr: delayMs > 0
      ? (_call: unknown, callback: grpc.sendUnaryData<AddrReply>) => setTimeout(callback, delayMs, null, reply)
      : (_call: unknown, callback: grpc.sendUnaryData<AddrReply>) => callback(null, reply),
  });

  const health = new HealthImplementation({ '': 'SERVING', [ADDR_SERVICE]: 'SERVING' });
  health.addToServer(server);

  const healthDefinition = protoLoader.loadSync(healthProtoPath, loaderOptions);
  reflectionService({ ...definition, ...healthDefinition }).addToServer(server);

  return {
    server,
    health,
    setServing(serving) {
      const status = serving ? 'SERVING' : 'NOT_SERVING';
      health.setStatus('', status);
      health.setStatus(ADDR_SERVICE, status);
    },
  };
}
