// `lab probe TARGET` (hidden): compare's latency probe, run as a process of its own with a strategy's
// environment; prints one JSON line.
import type { CommandModule, InferredOptionTypes } from 'yargs';
import { errorText, numberOption } from '../../common/cli.js';
import { probe } from '../compare/probe.js';

const probeOptions = {
  target: { type: 'string', demandOption: true },
  lb: { choices: ['pick_first', 'round_robin'] as const, default: 'pick_first' as const },
  rate: numberOption('rate', { min: 1, max: 5000, noun: 'calls per second' }, 'calls per second', 200),
  seconds: numberOption('seconds', { min: 1, max: 120, noun: 'seconds' }, 'how long', 3),
} as const;

export function probeCommand(): CommandModule<object, InferredOptionTypes<typeof probeOptions>> {
  return {
    command: 'probe <target>',
    describe: false,
    builder: probeOptions,
    handler: async (argv) => {
      try {
        console.log(
          JSON.stringify(await probe({ target: argv.target, lb: argv.lb, rate: argv.rate, seconds: argv.seconds })),
        );
        process.exit(0);
      } catch (error) {
        console.error(`lab probe: ${errorText(error)}`);
        process.exit(1);
      }
    },
  };
}
