// The gRPC side of addr-server: addr.Addr/GetAddr, the standard health service, and server reflection.
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { loadAddrProto, type AddrReply } from '../common/proto.js';
import type { DrainState } from './drain.js';
import { FAIL_CODES, type Faults } from './faults.js';
import type { PodIdentity } from './identity.js';
import type { CallTally, ServerMetrics } from './metrics.js';
import { reflectionService } from './reflection.js';

export interface GrpcOptions {
  pod: PodIdentity;
  faults: Faults;
  /** the health service answers NOT_SERVING once the drain begins */
  drain: DrainState;
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

const ADDR_SERVICE = 'addr.Addr';
const GET_ADDR = '/addr.Addr/GetAddr';

type GetAddr = grpc.handleUnaryCall<Record<string, never>, AddrReply>;

export function createGrpcServer(options: GrpcOptions): grpc.Server {
  const { pod, faults, drain, metrics } = options;
  const { definition, Addr } = loadAddrProto();
  const reply: AddrReply = { addr: pod.ip, pod: pod.name };

  // GetAddr counts its own calls (the interceptor leaves it alone): an intercepting call per call cost
  // more than answering does.
  const tally = metrics.tally('grpc', GET_ADDR.slice(1));
  const server = new grpc.Server(serverOptions(options));
  const getAddr: GetAddr = faults.any
    ? getAddrWithFaults(reply, faults, tally)
    : (_call, callback) => {
        const startedAt = tally.begin();
        callback(null, reply);
        tally.endOk(startedAt);
      };
  server.addService(Addr.service, { getAddr });

  const health = new HealthImplementation({ '': 'SERVING', [ADDR_SERVICE]: 'SERVING' });
  health.addToServer(server);
  drain.onBegin(() => {
    health.setStatus('', 'NOT_SERVING');
    health.setStatus(ADDR_SERVICE, 'NOT_SERVING');
  });

  reflectionService(definition).addToServer(server);
  return server;
}

/** GetAddr as a slow or failing pod answers it: a failure at once, else the answer after the delay. */
function getAddrWithFaults(reply: AddrReply, faults: Faults, tally: CallTally): GetAddr {
  const code = FAIL_CODES[faults.options.failCode];
  const failure = { code, details: 'a fault this server was told to play (--fail-percent)' };
  return (call, callback) => {
    const startedAt = tally.begin();
    if (faults.fails()) {
      callback(failure);
      tally.endGrpc(startedAt, code);
      return;
    }
    const delayMs = faults.delayMs();
    if (delayMs <= 0) {
      callback(null, reply);
      tally.endOk(startedAt);
      return;
    }
    // Cancelled by the client, its deadline or the grace period's end: no answer to send any more.
    const onCancel = () => {
      clearTimeout(timer);
      tally.endGrpc(startedAt, grpc.status.CANCELLED);
    };
    const timer = setTimeout(() => {
      call.off('cancelled', onCancel);
      callback(null, reply);
      tally.endOk(startedAt);
    }, delayMs);
    call.once('cancelled', onCancel);
  };
}

function serverOptions(options: GrpcOptions): grpc.ServerOptions {
  return {
    interceptors: [options.metrics.grpc([GET_ADDR])],
    // grpc-js keeps channelz statistics for every call unless told not to, for a channelz service this
    // server does not have: about 2 % of its CPU per call, for nothing.
    'grpc.enable_channelz': 0,
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
