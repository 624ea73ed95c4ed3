// Command-line parsing shared by every executable: --help, strict flags,
// and usage errors that print the usage on stderr and exit 2.
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';

export const EXIT_USAGE = 2;

export function command(name: string, usage: string): Argv {
  return yargs(hideBin(process.argv))
    .scriptName(name)
    .usage(usage)
    .strict()
    .version(false)
    .help('help')
    .alias('help', 'h')
    .wrap(Math.min(100, process.stdout.columns || 80))
    .fail((message, error, parser) => {
      parser.showHelp('error');
      console.error(`\n${name}: ${message ?? error?.message ?? 'invalid arguments'}`);
      process.exit(EXIT_USAGE);
    });
}

/** A usage error found after parsing (e.g. a malformed URL): same shape as yargs' own. */
export function usageError(parser: Argv, name: string, message: string): never {
  parser.showHelp('error');
  console.error(`\n${name}: ${message}`);
  process.exit(EXIT_USAGE);
}

export function isPort(value: unknown, allowZero = true): boolean {
  return Number.isInteger(value) && (value as number) >= (allowZero ? 0 : 1) && (value as number) <= 65535;
}

export function isNonNegativeInteger(value: unknown): boolean {
  return Number.isInteger(value) && (value as number) >= 0;
}

export const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));
