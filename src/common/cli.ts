// Command-line parsing shared by every executable: --help, strict flags, one checker per kind of
// number, options from the environment, and usage errors: one line on stderr (what is wrong, and where to
// read more), exit 2.
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';

export const EXIT_USAGE = 2;

/** This process's arguments, read when a program parses them: importing this module reads nothing. */
const commandLine = (): string[] => hideBin(process.argv);

export function command(name: string, usage: string): Argv {
  const args = commandLine();
  const parser: Argv = yargs(args)
    .scriptName(name)
    .usage(usage)
    .strict()
    // A flag given twice: the last one wins. No camel-case copies: an unknown --bogus-flag is named once.
    .parserConfiguration({ 'duplicate-arguments-array': false, 'camel-case-expansion': false })
    .version(false)
    .help('help')
    .alias('help', 'h')
    .wrap(Math.min(100, process.stdout.columns || 80))
    .check(() =>
      checkBooleans(args, (parser as unknown as { getOptions(): { boolean: string[] } }).getOptions().boolean),
    )
    .fail((message, error) => usageError(name, oneLine(message ?? error?.message ?? 'invalid arguments')));
  return parser;
}

/** A usage error, found by yargs or after parsing (e.g. a malformed URL): its one line, and exit 2. */
export function usageError(name: string, message: string): never {
  console.error(formatUsageError(name, message));
  process.exit(EXIT_USAGE);
}

/** yargs reads `--keepalive=maybe` as false; a flag's value must say true or false. */
function checkBooleans(args: string[], booleans: string[]): true {
  for (const arg of args) {
    const match = /^--(?:no-)?([^=]+)=(.*)$/.exec(arg);
    if (match && booleans.includes(match[1] as string) && !['true', 'false'].includes(match[2] as string)) {
      throw new Error(`--${match[1]} takes no value, or true or false; got ${JSON.stringify(match[2])}`);
    }
  }
  return true;
}

// ---- Numbers: one checker per kind, whatever the flag or variable it came from ----

/** setTimeout's limit: a longer delay silently becomes 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface NumberKind {
  min: number;
  max: number;
  /** what a value of this kind is, for the message: "a port number", "a whole number of milliseconds" */
  noun: string;
}

export const kinds = {
  port: { min: 0, max: 65535, noun: 'a port number' },
  ms: { min: 0, max: MAX_TIMER_MS, noun: 'a whole number of milliseconds' },
  positiveMs: { min: 1, max: MAX_TIMER_MS, noun: 'a whole number of milliseconds' },
  count: { min: 1, max: 1_000_000_000, noun: 'a whole number' },
} satisfies Record<string, NumberKind>;

/** Parses a whole number of `kind` from text (digits only: no "1e15", no "", no "0x10"), or throws
 *  a message naming `label` (a flag or an environment variable) and the range. */
export function parseNumber(value: unknown, kind: NumberKind, label: string): number {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : undefined;
  const number = text !== undefined && /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(number >= kind.min && number <= kind.max)) {
    const got = text === undefined || text === '' ? 'nothing' : JSON.stringify(value);
    throw new Error(`${label} must be ${kind.noun} from ${kind.min} to ${kind.max}, got ${got}`);
  }
  return number;
}

/** Where an option's value came from, for messages: the flag when given, else its variable. */
function labelOf(option: string, envPrefix: string | undefined): string {
  const flag = `--${option}`;
  if (commandLine().some((arg) => arg === flag || arg.startsWith(`${flag}=`))) return flag;
  if (envPrefix !== undefined && process.env[envName(envPrefix, option)] !== undefined)
    return envName(envPrefix, option);
  return flag;
}

/** A yargs option for a number of `kind`, checked by parseNumber whether it came from the command
 *  line, the environment (envPrefix) or the default. */
export function numberOption<D extends number | undefined>(
  option: string,
  kind: NumberKind,
  describe: string,
  defaultValue: D,
  envPrefix?: string,
) {
  return {
    type: 'string',
    requiresArg: true,
    describe,
    default: defaultValue,
    // yargs also coerces an absent option that has no default: it stays absent.
    coerce: (value: unknown): D extends number ? number : number | undefined =>
      (value === undefined && defaultValue === undefined
        ? undefined
        : parseNumber(value, kind, labelOf(option, envPrefix))) as never,
  } as const;
}

/** PREFIX_OPTION_NAME: ADDR_SERVER + http-port → ADDR_SERVER_HTTP_PORT. */
export const envName = (prefix: string, option: string) => `${prefix}_${option.toUpperCase().replaceAll('-', '_')}`;

/**
 * The values of `options` set in the environment as PREFIX_OPTION_NAME, for yargs' .config(): lower
 * precedence than the command line. Only known options are read, so the other variables a platform
 * sets with the same prefix (Kubernetes' service links: ADDR_SERVER_SERVICE_HOST, ADDR_SERVER_PORT, …)
 * are left alone rather than taken for typos.
 */
export function optionsFromEnv(
  prefix: string,
  options: Record<string, unknown>,
  env = process.env,
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const option of Object.keys(options)) {
    const value = env[envName(prefix, option)];
    if (value !== undefined) values[option] = value;
  }
  return values;
}

export const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

// ---- Pure parsing: parse…Args(argv, env) returns options or help, or throws a UsageError ----

/** A bad command line, as data: the one line that says what is wrong, and the exit code it deserves. */
export class UsageError extends Error {
  readonly exitCode = EXIT_USAGE;
}

/** What a pure parser returns: the options to run with, or the text of --help (printed, exit 0). */
export type Parsed<T> = { options: T } | { help: string };

/**
 * A yargs parser of `argv` alone, for a pure parse…Args(argv, env): it reads nothing from process.argv,
 * prints nothing, never exits. Whatever yargs rejects becomes a UsageError of one line. Camel-case
 * expansion is off so that an unknown --bogus-flag is named once (not also as bogusFlag); read options
 * by their kebab-case names.
 */
export function commandOf(name: string, usage: string, argv: readonly string[]): Argv {
  return yargs([...argv])
    .scriptName(name)
    .usage(usage)
    .strict()
    .parserConfiguration({ 'duplicate-arguments-array': false, 'camel-case-expansion': false })
    .version(false)
    .help(false)
    .option('help', { alias: 'h', type: 'boolean', describe: 'Show help' })
    .exitProcess(false)
    .wrap(Math.min(100, process.stdout.columns || 80))
    .fail((message, error) => {
      throw new UsageError(oneLine(message ?? error?.message ?? 'invalid arguments'));
    });
}

/**
 * Parses with a parser from commandOf(): --help (before any "--") wins over every other mistake on
 * the line; a boolean flag given a value other than true or false (`--keepalive=maybe`, which yargs
 * reads as false) is a usage error.
 */
export function parseCommand(parser: Argv, argv: readonly string[]): Parsed<Record<string, unknown>> {
  const end = argv.indexOf('--');
  if ((end === -1 ? argv : argv.slice(0, end)).some((arg) => arg === '--help' || arg === '-h')) {
    let help = '';
    parser.showHelp((text: string) => (help = text));
    return { help };
  }
  const values = parser.parseSync() as Record<string, unknown>;
  for (const arg of argv.slice(0, end === -1 ? undefined : end)) {
    const match = /^--(?:no-)?([^=]+)=(.*)$/.exec(arg);
    if (match && typeof values[match[1] as string] === 'boolean' && !['true', 'false'].includes(match[2] as string)) {
      throw new UsageError(`--${match[1]} takes no value, or true or false; got ${JSON.stringify(match[2])}`);
    }
  }
  return { options: values };
}

/** How every program says a usage error: the one line, and where to read more. */
export const formatUsageError = (name: string, message: string): string => `${name}: ${message} (see ${name} --help)`;

/** For entry files: the options, or print the help (exit 0) or the usage error (exit 2). */
export function optionsOrExit<T>(name: string, parse: () => Parsed<T>): T {
  let parsed: Parsed<T>;
  try {
    parsed = parse();
  } catch (error) {
    exitOnUsageError(name, error);
  }
  if ('help' in parsed) {
    process.stdout.write(`${parsed.help}\n`);
    process.exit(0);
  }
  return parsed.options;
}

/** For entry files: a UsageError thrown after parsing (e.g. a TARGET grpc-js rejects) ends the program
 *  as a bad command line does; anything else is rethrown. */
export function exitOnUsageError(name: string, error: unknown): never {
  if (!(error instanceof UsageError)) throw error;
  console.error(formatUsageError(name, error.message));
  process.exit(error.exitCode);
}

/** yargs' "Invalid values:\n  Argument: lb, …" on one line. */
const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ').trim();
