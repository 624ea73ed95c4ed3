// client-grpc TARGET: call addr.Addr/GetAddr in a loop on one channel and print which pod answered.
// A failed call (a pod went away, no pod ready) prints an error; the channel reconnects with backoff.
import * as grpc from '@grpc/grpc-js';
import { command, errorText, kinds, numberOption, usageError } from '../common/cli.js';
import { loadAddrProto } from '../common/proto.js';
import { parseK8sTarget } from './k8s-target.js';
import { askInALoop, loopOptions, type Ask } from './loop.js';

const parser = command(
  'client-grpc',
  '$0 TARGET [options]\n\nCalls addr.Addr/GetAddr on TARGET in a loop and prints "#N: <ip>" for each reply.\n' +
    'TARGET is any grpc-js target: localhost:30051, dns:///addr-server:30051, ipv4:10.0.0.1:30051,10.0.0.2:30051,\n' +
    'k8s:///addr-server.grpc-lb:grpc (the ready pods of a Service, from its EndpointSlices; see README),\n' +
    'or xds:///addr-server (proxyless: a control plane named by GRPC_XDS_BOOTSTRAP or GRPC_XDS_BOOTSTRAP_CONFIG)',
)
  .positional('TARGET', { type: 'string', describe: 'where to call' })
  .options({
    ...loopOptions,
    lb: {
      choices: ['pick_first', 'round_robin'] as const,
      defaultDescription: 'round_robin for k8s: targets, else pick_first',
      describe: 'load-balancing policy over the addresses TARGET resolves to',
    },
    'deadline-ms': numberOption('deadline-ms', kinds.positiveMs, 'deadline of each call', 5000),
    'keepalive-ms': numberOption(
      'keepalive-ms',
      kinds.ms,
      'while a call is in flight, ping the server this often; no answer within 5 s closes the connection and the channel reconnects (0: never)',
      10_000,
    ),
  })
  .demandCommand(1, 1, 'TARGET is missing', 'give exactly one TARGET');
const args = parser.parseSync();

const target = String(args._[0]);
// grpc-js would take an unknown scheme for a DNS name and fail on every call; say so now instead.
const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(target)?.[1]?.toLowerCase();
if (scheme !== undefined && !['dns', 'ipv4', 'ipv6', 'unix', 'unix-abstract', 'k8s', 'xds'].includes(scheme)) {
  usageError(
    parser,
    'client-grpc',
    `unknown scheme "${scheme}:" in TARGET ${target} (use dns:, ipv4:, ipv6:, unix:, k8s: or xds:)`,
  );
}
// xds: — proxyless gRPC. The plugin is loaded only for such targets, and needs its bootstrap.
if (scheme === 'xds') {
  if (!process.env.GRPC_XDS_BOOTSTRAP && !process.env.GRPC_XDS_BOOTSTRAP_CONFIG) {
    usageError(
      parser,
      'client-grpc',
      'an xds: TARGET needs GRPC_XDS_BOOTSTRAP (a file) or GRPC_XDS_BOOTSTRAP_CONFIG (JSON) naming the control plane',
    );
  }
  (await import('@grpc/grpc-js-xds')).register();
}
// k8s: — the EndpointSlice resolver. Loaded only for such targets: the Kubernetes client is slow to import.
if (scheme === 'k8s') {
  try {
    parseK8sTarget(target);
  } catch (error) {
    usageError(parser, 'client-grpc', `bad TARGET: ${errorText(error)}`);
  }
  const { registerK8sResolver } = await import('./k8s-resolver.js');
  await registerK8sResolver();
}
// Balancing over every pod is the point of k8s:, so round_robin unless --lb says otherwise.
const lb = args.lb ?? (scheme === 'k8s' ? 'round_robin' : 'pick_first');
const { Addr } = loadAddrProto();
const newChannel = () =>
  new Addr(target, grpc.credentials.createInsecure(), {
    'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ [lb]: {} }] }),
    'grpc.max_reconnect_backoff_ms': 5000,
    // A pod that hangs without closing its connection (stopped, partitioned) is noticed by its
    // silence on pings, not only when each call's deadline passes; the channel then reconnects.
    ...(args['keepalive-ms'] > 0
      ? { 'grpc.keepalive_time_ms': args['keepalive-ms'], 'grpc.keepalive_timeout_ms': 5000 }
      : {}),
  });
let client: InstanceType<typeof Addr>;
try {
  client = newChannel();
} catch (error) {
  usageError(parser, 'client-grpc', `bad TARGET ${target}: ${errorText(error)}`);
}

/**
 * gRPC's connection backoff spec gives a connection attempt 20 s (MIN_CONNECT_TIMEOUT); grpc-js 1.14
 * has no such bound on the HTTP/2 handshake. Through an L4 Service a reconnect can land on a pod that
 * hangs: the TCP connection is accepted, the server's SETTINGS never come, and the channel would wait
 * forever. So a channel stuck connecting that long is replaced by a new one, which connects afresh.
 */
const CONNECT_TIMEOUT_MS = 20_000;
let connectingSince: number | undefined;
function replaceStuckChannel(): void {
  const state = client.getChannel().getConnectivityState(false);
  if (state !== grpc.connectivityState.CONNECTING) {
    connectingSince = undefined;
    return;
  }
  connectingSince ??= Date.now();
  if (Date.now() - connectingSince < CONNECT_TIMEOUT_MS) return;
  client.close();
  client = newChannel();
  connectingSince = undefined;
}

const ask: Ask = (stop) =>
  new Promise((resolve, reject) => {
    const call = client.getAddr({}, { deadline: Date.now() + args['deadline-ms'] }, (error, reply) => {
      stop.removeEventListener('abort', cancel);
      replaceStuckChannel();
      if (error)
        reject(
          new Error(`${grpc.status[error.code] ?? error.code}: ${error.details.replace(/ Resolution note: *$/, '')}`),
        );
      else resolve(reply?.addr ?? '');
    });
    const cancel = () => call.cancel();
    stop.addEventListener('abort', cancel, { once: true });
  });

await askInALoop(ask, { intervalMs: args.interval, count: args.count, stdinLifeline: args['exit-on-stdin-close'] });
client.close();
// The xDS client keeps its stream to the control plane open after the channel closes, and offers no
// way to close it: once everything else is done, end the process (a timer that holds nothing open).
if (scheme === 'xds') setTimeout(() => process.exit(), 100).unref();
