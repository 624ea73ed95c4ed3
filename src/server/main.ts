// addr-server: answers HTTP GET /addr and gRPC addr.Addr/GetAddr with its pod IP. This file only wires
// the parts together: the options (options.ts), the two servers, the drain on SIGTERM.
import { setTimeout as sleep } from 'node:timers/promises';
import { hideBin } from 'yargs/helpers';
import { listen } from '../common/listen.js';
import { log } from '../common/log.js';
import { listeningFields } from '../common/output.js';
import { onShutdown } from '../common/shutdown.js';
import { DrainState } from './drain.js';
import { Faults } from './faults.js';
import { createGrpcServer } from './grpc.js';
import { listenGrpc, type GrpcListener } from './grpc-listener.js';
import { createHttpServer } from './http.js';
import { podIdentity } from './identity.js';
import { ServerMetrics } from './metrics.js';
import { parseServerArgs, UsageError, type ServerOptions } from './options.js';
import { ListenError, startFailure } from './start-errors.js';

function parseOrExit(): ServerOptions {
  try {
    const invocation = parseServerArgs(hideBin(process.argv), process.env, process.stdout.columns || 80);
    if (invocation.kind === 'help') {
      console.log(invocation.text);
      process.exit(0);
    }
    for (const { variable, value } of invocation.ignored)
      log('ignoring a Kubernetes service link variable: it names a Service, not an option', { variable, value });
    return invocation.options;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(error.message);
    process.exit(error.exitCode);
  }
}

const options = parseOrExit();
const pod = podIdentity();
const drain = new DrainState();
const faults = new Faults(options);
const metrics = new ServerMetrics(pod, drain, faults.options);

const http = createHttpServer({ pod, faults, drain, metrics });
const grpcServer = createGrpcServer({
  pod,
  faults,
  drain,
  metrics,
  maxConnectionAgeMs: options.maxConnectionAgeMs,
  idleTimeoutMs: options.idleTimeoutMs,
  keepaliveMs: options.keepaliveMs,
  keepaliveTimeoutMs: options.keepaliveTimeoutMs,
  maxStreams: options.maxStreams,
});
let grpcListener: GrpcListener | undefined;

async function start(): Promise<void> {
  const { host } = options;
  try {
    const httpPort = await listen(http, options.httpPort, host).catch((error: unknown) => {
      throw new ListenError('HTTP', host, options.httpPort, error);
    });
    grpcListener = await listenGrpc(grpcServer, host, options.grpcPort, {
      maxConnections: options.maxConnections,
      maxConnectionsPerPeer: options.maxConnectionsPerPeer,
      handshakeTimeoutMs: Math.min(10_000, options.idleTimeoutMs || 10_000),
    }).catch((error: unknown) => {
      throw new ListenError('gRPC', host, options.grpcPort, error);
    });
    log(
      'listening',
      listeningFields({
        podIp: pod.ip,
        pod: pod.name,
        http: { host, port: httpPort },
        grpc: { host, port: grpcListener.port },
      }),
    );
  } catch (error) {
    const { line, exitCode } = startFailure(error);
    console.error(line);
    http.close();
    process.exit(exitCode);
  }
}

async function stop(signal: string): Promise<void> {
  drain.begin();
  log('shutting down', { signal, shutdown_delay_ms: options.shutdownDelayMs, grace_ms: options.graceMs });
  if (options.shutdownDelayMs > 0) await sleep(options.shutdownDelayMs);

  // The grace period is a bound: at its end the process exits, whatever its peers do (a peer that
  // stopped reading would otherwise hold a connection, and the process, open).
  setTimeout(() => {
    log('grace period over: closing the connections still open', {}, 'warn');
    grpcServer.forceShutdown();
    grpcListener?.destroyAll();
    http.closeAllConnections();
    process.exit(0);
  }, options.graceMs).unref();
  // Stop accepting, let calls in flight finish; gRPC sends GOAWAY on every HTTP/2 session.
  grpcListener?.stopAccepting();
  grpcServer.tryShutdown(() => undefined);
  await Promise.all([grpcListener?.drained(), new Promise<void>((resolve) => http.close(() => resolve()))]);
  log('stopped');
  process.exit(0);
}

onShutdown(stop, options.exitOnStdinClose);
await start();
