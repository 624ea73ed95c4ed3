// npm run bench: addr-server under load from h2load (gRPC GetAddr) and wrk (HTTP /addr), next to the
// smallest grpc-js server and express app answering the same calls; then the lab. Prints figures;
// asserts nothing.
import { command, kinds, numberOption } from '../src/common/cli.js';
import { onShutdown } from '../src/common/shutdown.js';
import { compareFigures } from './compare.js';
import { firstCallFigures } from './first-calls.js';
import { labFigures } from './lab.js';
import { meshFigures } from './mesh.js';
import { missingTools } from './load.js';
import { serverCostFigures } from './server-cost.js';
import { stopAll } from './servers.js';

const args = command('bench', '$0 [options]\n\nMeasures addr-server against a bare baseline. Needs h2load and wrk.')
  .options({
    seconds: numberOption('seconds', { ...kinds.count, max: 120 }, 'length of each measured run in the lab', 5),
    rounds: numberOption('rounds', { ...kinds.count, max: 20 }, 'runs per figure in the lab (the median is shown)', 3),
    rate: numberOption(
      'rate',
      { ...kinds.count, max: 5000 },
      'calls per second for the latency comparison through the lab',
      200,
    ),
    'server-rounds': numberOption(
      'server-rounds',
      { ...kinds.count, max: 50 },
      'rounds of 2 s for each ratio of addr-server to the bare library (side by side, then interleaved)',
      6,
    ),
  })
  .parseSync();

onShutdown(() => {
  stopAll();
  process.exit(130);
});

const missing = await missingTools();
if (missing.length > 0) {
  console.error(`bench: the load generators are missing:\n  ${missing.join('\n  ')}`);
  process.exit(1);
}

console.log(
  `addr-server next to the bare library\n${await serverCostFigures(
    { seconds: 2, sideBySideRounds: args['server-rounds'], interleavedRounds: args['server-rounds'] },
    (line) => process.stderr.write(`bench: ${line}\n`),
  )}`,
);
stopAll();

console.log(`\nThe lab\n${await labFigures(args.seconds, args.rounds, args.rate)}`);
console.log(`\n${await firstCallFigures(args.rounds)}`);
console.log(`\n${await meshFigures(args.seconds, args.rounds, args.rate)}`);
console.log(`\n${await compareFigures(args.seconds, args.rounds, args.rate)}`);
