// The gRPC side of addr-server: addr.Addr/GetAddr, the standard health service, and server reflection.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import { loadAddrProto, loaderOptions, type AddrReply } from '../common/proto.js';
import type { PodIdentity } from './identity.js';
import type { ServerMetrics } from './metrics.js';
import { reflectionService } from './reflection.js';

export interface GrpcOptions {
  pod: PodIdentity;
  delayMs: number;
  /** Server-side max connection age (0: off): makes clients reconnect, and so re-balance, periodically. */
  maxConnectionAgeMs: number;
  /** Close a connection with no call in flight for this long (0: never). */
  idleTimeoutMs: number;
  /** Ping each peer this often and close its connection when the ping is not answered in time (0: off). */
  keepaliveMs: number;
  keepaliveTimeoutMs: number;
  /** Calls in flight at once on one connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS). */
  maxStreams: number;
  metrics: ServerMetrics;
}

export interface AddrGrpcServer {
  server: grpc.Server;
  setServing(serving: boolean): void;
}

const ADDR_SERVICE = 'addr.Addr';

export function createGrpcServer(options: GrpcOptions): AddrGrpcServer {
  const { pod, delayMs } = options;
  const { definition, Addr } = loadAddrProto();
  const reply: AddrReply = { addr: pod.ip, pod: pod.name };

  const server = new grpc.Server(serverOptions(options));
  server.addService(Addr.service, {
    getAddr:
      delayMs > 0
        ? (_call: unknown, callback: grpc.sendUnaryData<AddrReply>) => setTimeout(callback, delayMs, null, reply)
        : (_call: unknown, callback: grpc.sendUnaryData<AddrReply>) => callback(null, reply),
  });

  const health = new HealthImplementation({ '': 'SERVING', [ADDR_SERVICE]: 'SERVING' });
  health.addToServer(server);

  const healthDefinition = protoLoader.loadSync(healthProtoPath, loaderOptions);
  reflectionService({ ...definition, ...healthDefinition }).addToServer(server);

  return {
    server,
    setServing(serving) {
      const status = serving ? 'SERVING' : 'NOT_SERVING';
      health.setStatus('', status);
      health.setStatus(ADDR_SERVICE, status);
    },
  };
}

function serverOptions(options: GrpcOptions): grpc.ServerOptions {
  return {
    interceptors: [options.metrics.grpc()],
    'grpc.max_concurrent_streams': options.maxStreams,
    ...(options.idleTimeoutMs > 0 ? { 'grpc.max_connection_idle_ms': options.idleTimeoutMs } : {}),
    ...(options.keepaliveMs > 0
      ? { 'grpc.keepalive_time_ms': options.keepaliveMs, 'grpc.keepalive_timeout_ms': options.keepaliveTimeoutMs }
      : {}),
    ...(options.maxConnectionAgeMs > 0
      ? { 'grpc.max_connection_age_ms': options.maxConnectionAgeMs, 'grpc.max_connection_age_grace_ms': 10_000 }
      : {}),
  };
}
