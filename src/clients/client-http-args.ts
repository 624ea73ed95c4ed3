// client-http's command line, parsed as a pure function: argv in, the options (or the help text) out, a
// UsageError thrown for a bad line. Nothing is printed, nothing exits.
import { commandOf, parseCommand, UsageError, type Parsed } from '../common/cli.js';
import { callOptions, loopOptionsOf, type LoopOptions } from './call-options.js';

export interface ClientHttpOptions extends LoopOptions {
  url: URL;
  /** Reuse connections (HTTP/1.1 keep-alive) instead of a new one per request. */
  keepalive: boolean;
}

const USAGE = `$0 URL [options]

GETs URL (e.g. http://127.0.0.1:30080/addr) in a loop and prints "#N: <ip>"
for each reply, "Error: <message>" for each failed request. One request at a
time, --interval apart; with --rate, requests start on a schedule and overlap.
Each request opens a new connection unless --keepalive is given.`;

const options = {
  ...callOptions,
  keepalive: {
    type: 'boolean',
    default: false,
    describe: 'reuse connections (HTTP/1.1 keep-alive): one with --interval, one per request in flight with --rate',
  },
} as const;

export function parseClientHttpArgs(argv: readonly string[], _env: NodeJS.ProcessEnv): Parsed<ClientHttpOptions> {
  const parser = commandOf('client-http', USAGE, argv)
    .positional('URL', { type: 'string', describe: 'the /addr endpoint to ask' })
    .options(options)
    .demandCommand(1, 1, 'URL is missing', 'give exactly one URL');
  const parsed = parseCommand(parser, argv);
  if ('help' in parsed) return parsed;
  const values = parsed.options;

  const raw = String((values._ as unknown[])[0]);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`not a URL: ${raw} (try http://127.0.0.1:30080/addr)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`URL must start with http:// or https://, got ${url.protocol}`);
  }
  return { options: { ...loopOptionsOf(values), url, keepalive: values.keepalive === true } };
}
