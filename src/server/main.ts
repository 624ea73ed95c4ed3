// addr-server: answers HTTP GET /addr and gRPC addr.Addr/GetAddr with its pod IP.
import { setTimeout as sleep } from 'node:timers/promises';
import { command, errorText, kinds, numberOption, optionsFromEnv } from '../common/cli.js';
import { listen } from '../common/listen.js';
import { log } from '../common/log.js';
import { listeningFields } from '../common/output.js';
import { onShutdown, stdinLifelineOption } from '../common/shutdown.js';
import { createGrpcServer } from './grpc.js';
import { listenGrpc, type GrpcListener } from './grpc-listener.js';
import { createHttpServer } from './http.js';
import { podIdentity } from './identity.js';
import { ServerMetrics } from './metrics.js';

const ENV = 'ADDR_SERVER';
const number = (option: string, kind: (typeof kinds)[keyof typeof kinds], describe: string, defaultValue: number) =>
  numberOption(option, kind, describe, defaultValue, ENV);

const options = {
  host: { type: 'string', default: '0.0.0.0', describe: 'address to bind both listeners to' },
  'http-port': number('http-port', kinds.port, 'HTTP port (0: any free port)', 8080),
  'grpc-port': number('grpc-port', kinds.port, 'gRPC port (0: any free port)', 30051),
  'delay-ms': number('delay-ms', kinds.ms, 'answer every /addr and GetAddr after this many ms (simulated work)', 0),
  'shutdown-delay-ms': number(
    'shutdown-delay-ms',
    kinds.ms,
    'on SIGTERM, first keep serving this long while health says not-serving, so endpoints can drop the pod',
    0,
  ),
  'grace-ms': number(
    'grace-ms',
    kinds.ms,
    'on SIGTERM, then wait at most this long for calls in flight; exit by then whatever peers do',
    20_000,
  ),
  'max-connection-age-ms': number(
    'max-connection-age-ms',
    kinds.ms,
    'close each gRPC connection (GOAWAY) after this age, so clients reconnect and re-balance (0: never)',
    0,
  ),
  'idle-timeout-ms': number(
    'idle-timeout-ms',
    kinds.ms,
    'close a gRPC connection with no call for this long (0: never); a connection must send its HTTP/2 preface within min(this, 10 s)',
    60_000,
  ),
  'keepalive-ms': number('keepalive-ms', kinds.ms, 'ping each gRPC peer this often (0: never)…', 30_000),
  'keepalive-timeout-ms': number(
    'keepalive-timeout-ms',
    kinds.positiveMs,
    '…and close its connection when a ping is not answered within this',
    10_000,
  ),
  'max-connections': number(
    'max-connections',
    kinds.count,
    'gRPC connections open at once; more are refused (each idle one holds about 30 KiB)',
    1000,
  ),
  'max-streams': number('max-streams', kinds.count, 'gRPC calls in flight at once on one connection', 100),
} as const;

const args = command(
  'server',
  '$0 [options]\n\nServes its pod IP over HTTP (GET /addr, GET /health) and gRPC (addr.Addr/GetAddr, ' +
    'grpc.health.v1.Health, reflection).\nThe pod IP comes from $POD_IP (Kubernetes downward API), else the ' +
    "machine's first non-internal IPv4 address.\nEvery option can also be set as ADDR_SERVER_<OPTION>, " +
    'e.g. ADDR_SERVER_HTTP_PORT=8080; the command line wins.',
)
  .options({ ...options, ...stdinLifelineOption })
  // Only the variables of known options: a kubelet also sets ADDR_SERVER_SERVICE_HOST, ADDR_SERVER_PORT, …
  // for a Service named addr-server ("service links"), and those must not stop the server.
  .config(optionsFromEnv(ENV, options))
  .check((argv) => {
    if (argv.host.trim() === '') throw new Error('--host must not be empty');
    return true;
  })
  .parseSync();

const pod = podIdentity();
let serving = true;
const metrics = new ServerMetrics(pod);

const http = createHttpServer({ pod, delayMs: args['delay-ms'], serving: () => serving, metrics });
const grpcSide = createGrpcServer({
  pod,
  metrics,
  delayMs: args['delay-ms'],
  maxConnectionAgeMs: args['max-connection-age-ms'],
  idleTimeoutMs: args['idle-timeout-ms'],
  keepaliveMs: args['keepalive-ms'],
  keepaliveTimeoutMs: args['keepalive-timeout-ms'],
  maxStreams: args['max-streams'],
});
let grpcListener: GrpcListener | undefined;

const hostPort = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** One line a person can act on, instead of a stack trace. */
function bindFailure(what: string, port: number, error: unknown): string {
  const text = errorText(error);
  if (/EADDRINUSE/.test(text)) return `${what} port ${port} is already in use on ${args.host}`;
  if (/EACCES/.test(text)) return `${what} port ${port}: permission denied (ports below 1024 need privileges)`;
  if (/EADDRNOTAVAIL|ENOTFOUND|EAI_AGAIN/.test(text))
    return `cannot bind ${what} to host ${args.host}: no such address here`;
  return `cannot listen for ${what} on ${hostPort(args.host, port)}: ${text}`;
}

async function start(): Promise<void> {
  let httpPort: number;
  try {
    httpPort = await listen(http, args['http-port'], args.host).catch((error: unknown) => {
      throw new Error(bindFailure('HTTP', args['http-port'], error));
    });
    grpcListener = await listenGrpc(grpcSide.server, args.host, args['grpc-port'], {
      maxConnections: args['max-connections'],
      maxConnectionsPerPeer: 0,
      handshakeTimeoutMs: Math.min(10_000, args['idle-timeout-ms'] || 10_000),
    }).catch((error: unknown) => {
      throw new Error(bindFailure('gRPC', args['grpc-port'], error));
    });
  } catch (error) {
    console.error(`server: ${errorText(error)}`);
    http.close();
    process.exit(1);
  }
  log(
    'listening',
    listeningFields({
      podIp: pod.ip,
      pod: pod.name,
      http: { host: args.host, port: httpPort },
      grpc: { host: args.host, port: grpcListener.port },
    }),
  );
}

async function stop(signal: string): Promise<void> {
  serving = false;
  grpcSide.setServing(false);
  metrics.setServing(false);
  log('shutting down', { signal, shutdown_delay_ms: args['shutdown-delay-ms'], grace_ms: args['grace-ms'] });
  if (args['shutdown-delay-ms'] > 0) await sleep(args['shutdown-delay-ms']);

  // The grace period is a bound: at its end the process exits, whatever its peers do (a peer that
  // stopped reading would otherwise hold a connection, and the process, open).
  setTimeout(() => {
    log('grace period over: closing the connections still open', {}, 'warn');
    grpcSide.server.forceShutdown();
    grpcListener?.destroyAll();
    http.closeAllConnections();
    process.exit(0);
  }, args['grace-ms']).unref();
  // Stop accepting, let calls in flight finish; gRPC sends GOAWAY on every HTTP/2 session.
  grpcListener?.stopAccepting();
  grpcSide.server.tryShutdown(() => undefined);
  await Promise.all([grpcListener?.drained(), new Promise<void>((resolve) => http.close(() => resolve()))]);
  log('stopped');
  process.exit(0);
}

onShutdown(stop, args['exit-on-stdin-close']);
await start();
