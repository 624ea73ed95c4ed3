// addr-server: answers HTTP GET /addr and gRPC addr.Addr/GetAddr with its pod IP.
import * as grpc from '@grpc/grpc-js';
import { setTimeout as sleep } from 'node:timers/promises';
import { command, errorText, isNonNegativeInteger, isPort } from '../common/cli.js';
import { listen } from '../common/listen.js';
import { log } from '../common/log.js';
import { onShutdown, stdinLifelineOption } from '../common/shutdown.js';
import { createGrpcServer } from './grpc.js';
import { createHttpServer } from './http.js';
import { podIdentity } from './identity.js';

const args = command(
  'server',
  '$0 [options]\n\nServes its pod IP over HTTP (GET /addr, GET /health) and gRPC (addr.Addr/GetAddr, ' +
    'grpc.health.v1.Health, reflection).\nThe pod IP comes from $POD_IP (Kubernetes downward API), else the ' +
    "machine's first non-internal IPv4 address.\nEvery option can also be set as ADDR_SERVER_<OPTION>, " +
    'e.g. ADDR_SERVER_HTTP_PORT=8080.',
)
  .env('ADDR_SERVER')
  .options({
    host: { type: 'string', default: '0.0.0.0', describe: 'address to bind both listeners to' },
    'http-port': { type: 'number', default: 8080, describe: 'HTTP port (0: any free port)' },
    'grpc-port': { type: 'number', default: 30051, describe: 'gRPC port (0: any free port)' },
    'delay-ms': { type: 'number', default: 0, describe: 'answer every /addr and GetAddr after this many ms (simulated work)' },
    'shutdown-delay-ms': {
      type: 'number',
      default: 0,
      describe: 'on SIGTERM, first keep serving this long while health says not-serving, so endpoints can drop the pod',
    },
    'grace-ms': { type: 'number', default: 20_000, describe: 'on SIGTERM, then wait at most this long for calls in flight' },
    'max-connection-age-ms': {
      type: 'number',
      default: 0,
      describe: 'close each gRPC connection (GOAWAY) after this age, so clients reconnect and re-balance (0: never)',
    },
    ...stdinLifelineOption,
  })
  .check((argv) => {
    for (const name of ['http-port', 'grpc-port'] as const) {
      if (!isPort(argv[name])) throw new Error(`--${name} must be a port number from 0 to 65535, got ${argv[name]}`);
    }
    for (const name of ['delay-ms', 'shutdown-delay-ms', 'grace-ms', 'max-connection-age-ms'] as const) {
      if (!isNonNegativeInteger(argv[name])) throw new Error(`--${name} must be a whole number of milliseconds, got ${argv[name]}`);
    }
    if (argv.host.trim() === '') throw new Error('--host must not be empty');
    return true;
  })
  .parseSync();

const pod = podIdentity();
let serving = true;

const http = createHttpServer({ pod, delayMs: args['delay-ms'], serving: () => serving });
const grpcSide = createGrpcServer({ pod, delayMs: args['delay-ms'], maxConnectionAgeMs: args['max-connection-age-ms'] });

const hostPort = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

function bindGrpc(server: grpc.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(hostPort(host, port), grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
}

/** One line a person can act on, instead of a stack trace. */
function bindFailure(what: string, port: number, error: unknown): string {
  const text = errorText(error);
  if (/EADDRINUSE/.test(text)) return `${what} port ${port} is already in use on ${args.host}`;
  if (/EACCES/.test(text)) return `${what} port ${port}: permission denied (ports below 1024 need privileges)`;
  if (/EADDRNOTAVAIL|ENOTFOUND|EAI_AGAIN/.test(text)) return `cannot bind ${what} to host ${args.host}: no such address here`;
  return `cannot listen for ${what} on ${hostPort(args.host, port)}: ${text}`;
}

async function start(): Promise<void> {
  let httpPort: number;
  let grpcPort: number;
  // grpc-js logs its own line for a failed bind; ours says it better (GRPC_VERBOSITY still wins).
  const quietBind = !process.env.GRPC_VERBOSITY && !process.env.GRPC_NODE_VERBOSITY;
  if (quietBind) grpc.setLogVerbosity(grpc.logVerbosity.NONE);
  try {
    httpPort = await listen(http, args['http-port'], args.host).catch((error: unknown) => {
      throw new Error(bindFailure('HTTP', args['http-port'], error));
    });
    grpcPort = await bindGrpc(grpcSide.server, args.host, args['grpc-port']).catch((error: unknown) => {
      throw new Error(bindFailure('gRPC', args['grpc-port'], error));
    });
  } catch (error) {
    console.error(`server: ${errorText(error)}`);
    http.close();
    grpcSide.server.forceShutdown();
    process.exit(1);
  }
  if (quietBind) grpc.setLogVerbosity(grpc.logVerbosity.ERROR);
  log('listening', {
    pod_ip: pod.ip,
    pod: pod.name,
    http: hostPort(args.host, httpPort),
    grpc: hostPort(args.host, grpcPort),
  });
}

async function stop(signal: string): Promise<void> {
  serving = false;
  grpcSide.setServing(false);
  log('shutting down', { signal, shutdown_delay_ms: args['shutdown-delay-ms'], grace_ms: args['grace-ms'] });
  if (args['shutdown-delay-ms'] > 0) await sleep(args['shutdown-delay-ms']);

  const deadline = setTimeout(() => {
    log('grace period over: closing the connections still open', {}, 'warn');
    grpcSide.server.forceShutdown();
    http.closeAllConnections();
  }, args['grace-ms']);
  // Stop accepting, let calls in flight finish; gRPC sends GOAWAY on every HTTP/2 session.
  await Promise.all([
    new Promise<void>((resolve) => grpcSide.server.tryShutdown(() => resolve())),
    new Promise<void>((resolve) => http.close(() => resolve())),
  ]);
  clearTimeout(deadline);
  log('stopped');
  process.exit(0);
}

onShutdown(stop, args['exit-on-stdin-close']);
await start();
