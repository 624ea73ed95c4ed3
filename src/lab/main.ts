// out/lab: the post's experiment on one machine, no cluster. `lab` (= npm start) replays it and checks
// the result; `lab up` keeps the emulated cluster running, with a Kubernetes API for kubectl; `lab scale
// N` scales a running one; `lab compare` measures every fix side by side. This file only wires the
// commands (src/lab/commands/) to the command line.
import { fileURLToPath } from 'node:url';
import { command } from '../common/cli.js';
import { compareCommand } from './commands/compare.js';
import { probeCommand } from './commands/probe.js';
import { runCommand } from './commands/run.js';
import { scaleCommand } from './commands/scale.js';
import { upCommand } from './commands/up.js';
import type { Out } from './out.js';

const beside = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));
const out: Out = {
  server: beside('server'),
  clientHttp: beside('client-http'),
  clientGrpc: beside('client-grpc'),
  lab: beside('lab'),
  dashboard: beside('dashboard'),
  file: beside,
};

await command(
  'lab',
  '$0 [run|up|scale N|compare] [options]\n\nThe experiment on one machine: real addr-server pods with their own pod IPs, ' +
    'a Service that balances per connection (L4, like kube-proxy), a mesh proxy that balances per request (L7, like Linkerd).',
)
  .command(runCommand(out))
  .command(upCommand(out))
  .command(scaleCommand())
  .command(compareCommand(out))
  .command(probeCommand())
  .demandCommand(1)
  .parseAsync();
