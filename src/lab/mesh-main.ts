// out/mesh: the lab's mesh as a process of its own, as a sidecar runs beside its client. It balances
// the calls of in-mesh clients over a Service's ready pods, which it follows through a Kubernetes API
// (the lab's), with the Service's failure-accrual annotations; it prints a ready line, then its events
// (one JSON object per line).
import { command, kinds, numberOption, usageError } from '../common/cli.js';
import { log } from '../common/log.js';
import { raiseOpenFileLimit } from '../common/open-files.js';
import { onShutdown, stdinLifelineOption } from '../common/shutdown.js';
import { BALANCERS, type BalancerName } from './data-plane/balancer.js';
import type { MeshEvents } from './data-plane/mesh.js';
import { formatMeshEvent, listeningFields, MESH_EVENTS, runMesh } from './data-plane/mesh-process.js';

const ROUND_ROBIN: BalancerName = 'round-robin';

const parser = command(
  'mesh',
  "$0 --api URL [options]\n\nAn L7 mesh proxy (a model of Linkerd's) for in-mesh clients: each call goes to a ready pod of " +
    "the Service, which it follows through the Kubernetes API at URL (plain HTTP, e.g. the lab's).",
).options({
  api: {
    type: 'string',
    demandOption: true,
    requiresArg: true,
    describe: "the Kubernetes API's URL (http://HOST:PORT)",
  },
  namespace: { type: 'string', default: 'grpc-lb', requiresArg: true, describe: "the Service's namespace" },
  service: { type: 'string', default: 'addr-server', requiresArg: true, describe: 'the Service to balance over' },
  host: { type: 'string', default: '127.0.0.1', requiresArg: true, describe: 'the address to listen on' },
  port: numberOption('port', kinds.port, 'the port to listen on (0: any free port)', 4140),
  balancer: { choices: BALANCERS, default: ROUND_ROBIN, describe: 'how a pod is picked per call' },
  'call-events': { type: 'boolean', default: false, describe: 'print a line for each call too (costs CPU per call)' },
  ...stdinLifelineOption,
});
const args = parser.parseSync();
let api: URL;
try {
  api = new URL(args.api);
  if (api.protocol !== 'http:') throw new Error('only http:// is spoken');
} catch (error) {
  usageError('mesh', `--api must be an http:// URL: ${(error as Error).message}`);
}

log('open files', { limit: raiseOpenFileLimit().line });
const running = await runMesh({
  api: api.href,
  namespace: args.namespace,
  service: args.service,
  port: args.port,
  host: args.host,
  balancer: args.balancer,
}).catch((error: unknown) => {
  console.error(`mesh: ${(error as Error).message}`);
  process.exit(1);
});
if (running.accrualWarning) log('failure accrual off', { why: running.accrualWarning }, 'warn');
if (running.timeoutWarning) log('request timeout off', { why: running.timeoutWarning }, 'warn');
for (const name of MESH_EVENTS) {
  if (!args['call-events'] && (name === 'request' || name === 'response')) continue;
  running.mesh.on(name, (data: MeshEvents[typeof name][0]) => process.stdout.write(`${formatMeshEvent(name, data)}\n`));
}
running.endpoints.on('error', (error) => log('Kubernetes API', { error: error.message }, 'warn'));
log('listening', listeningFields(args.host, running.port));

onShutdown(async () => {
  await running.close();
  process.exit(0);
}, args['exit-on-stdin-close']);
