// addr-server's options, from its command line and from ADDR_SERVER_<OPTION> variables, parsed by a pure
// function: it returns the options (or the help text to print), or throws a UsageError that carries the
// line to print and the exit code. Nothing here reads the process's state or ends it.
import yargs from 'yargs';
import { EXIT_USAGE, envName, kinds, parseNumber, type NumberKind } from '../common/cli.js';
import { FAIL_CODES, HTTP_STATUS, type FailCode } from './faults.js';

export const ENV_PREFIX = 'ADDR_SERVER';

export interface ServerOptions {
  host: string;
  httpPort: number;
  grpcPort: number;
  delayMs: number;
  delayJitterMs: number;
  failPercent: number;
  failCode: FailCode;
  shutdownDelayMs: number;
  graceMs: number;
  maxConnectionAgeMs: number;
  idleTimeoutMs: number;
  keepaliveMs: number;
  keepaliveTimeoutMs: number;
  maxConnections: number;
  /** 0: no share per peer */
  maxConnectionsPerPeer: number;
  maxStreams: number;
  /** stop as on SIGTERM when standard input closes (for a supervising parent, the lab) */
  exitOnStdinClose: boolean;
}

/** A variable named like an option whose value is a Kubernetes service link, so it was left alone. */
export interface IgnoredVariable {
  variable: string;
  value: string;
}

export type Invocation =
  { kind: 'serve'; options: ServerOptions; ignored: IgnoredVariable[] } | { kind: 'help'; text: string };

/** Bad input: `message` is the one line to print, `exitCode` the code to exit with. */
export class UsageError extends Error {
  readonly exitCode = EXIT_USAGE;
}

const USAGE =
  '$0 [options]\n\n' +
  'Serves its pod IP over HTTP (GET /addr, GET /health, GET /metrics) and gRPC (addr.Addr/GetAddr, ' +
  'grpc.health.v1.Health, reflection).\n' +
  "The pod IP comes from $POD_IP (Kubernetes downward API), else the machine's first non-internal IPv4 " +
  'address.\n\n' +
  'Faults, to watch a balancer meet a bad pod that stays Ready (health checks keep passing): --delay-ms and ' +
  '--delay-jitter-ms make a slow pod, --fail-percent and --fail-code a pod that fails fast. They apply to ' +
  '/addr and GetAddr, and show in /metrics (addr_server_fault_*).\n\n' +
  'Every option can also be set as ADDR_SERVER_<OPTION>, e.g. ADDR_SERVER_HTTP_PORT=8080; the command line ' +
  'wins. A value like tcp://10.96.0.5:30051 is a Kubernetes service link (a Service named addr-server-grpc ' +
  'sets ADDR_SERVER_GRPC_PORT so), never an option: it is ignored, and the server says so.';

/** What the kubelet puts in <SERVICE>_PORT and <SERVICE>_PORT_<N>_<PROTOCOL> (pkg/kubelet/envvars). */
const SERVICE_LINK = /^(tcp|udp|sctp):\/\/\S+:\d+$/;

const countOrOff: NumberKind = { min: 0, max: 1_000_000_000, noun: 'a whole number' };

/**
 * Reads `argv` (the arguments after the program's name) and the ADDR_SERVER_* variables of `env`; the
 * command line wins over a variable. `width` wraps the help text.
 */
export function parseServerArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  width = 80,
): Invocation {
  const given = (option: string) => argv.some((arg) => arg === `--${option}` || arg.startsWith(`--${option}=`));
  const fromEnv: Record<string, string> = {};
  const ignored: IgnoredVariable[] = [];
  /** Where an option's value came from, for messages: its flag when given, else its variable. */
  const label = (option: string) =>
    given(option) || fromEnv[option] === undefined ? `--${option}` : envName(ENV_PREFIX, option);

  const number = (option: string, kind: NumberKind, describe: string, value: number) =>
    ({
      type: 'string',
      requiresArg: true,
      describe,
      default: value,
      coerce: (text: unknown) => parseNumber(text, kind, label(option)),
    }) as const;
  const options = {
    host: {
      type: 'string',
      requiresArg: true,
      describe: 'address to bind both listeners to',
      default: '0.0.0.0',
      coerce: (text: string) => {
        if (text.trim() === '') throw new Error(`${label('host')} must not be empty`);
        return text.trim();
      },
    },
    'http-port': number('http-port', kinds.port, 'HTTP port (0: any free port)', 8080),
    'grpc-port': number('grpc-port', kinds.port, 'gRPC port (0: any free port)', 30051),
    'delay-ms': number('delay-ms', kinds.ms, 'answer every /addr and GetAddr after this many ms (a slow pod)…', 0),
    'delay-jitter-ms': number(
      'delay-jitter-ms',
      kinds.ms,
      '…plus a random extra, exponentially distributed with this mean: most answers come near --delay-ms, ' +
        'a few much later (p99 ≈ --delay-ms + 4.6 × this)',
      0,
    ),
    'fail-percent': {
      type: 'string',
      requiresArg: true,
      describe:
        'fail this share of /addr and GetAddr (0 to 100, e.g. 20 or 0.5) at once, with --fail-code ' +
        '(a pod that fails fast); health checks still pass',
      default: 0,
      coerce: (text: unknown) => parsePercent(text, label('fail-percent')),
    },
    'fail-code': {
      type: 'string',
      requiresArg: true,
      describe:
        "the gRPC status of those failures; /addr answers the status's HTTP equivalent " +
        '(google.rpc.Code: UNAVAILABLE 503, RESOURCE_EXHAUSTED 429, INTERNAL 500, DEADLINE_EXCEEDED 504, …)',
      default: 'UNAVAILABLE',
      coerce: (text: unknown) => parseFailCode(text, label('fail-code')),
    },
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
      'close a gRPC connection with no call for this long (0: never); a connection must send its HTTP/2 ' +
        'preface within min(this, 10 s), and its SETTINGS within 2 s more',
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
    'max-connections-per-peer': number(
      'max-connections-per-peer',
      countOrOff,
      'gRPC connections open at once from one address (0: no such share). Off by default: behind a ' +
        'NodePort, a mesh sidecar or a proxy, one address carries every client',
      0,
    ),
    'max-streams': number('max-streams', kinds.count, 'gRPC calls in flight at once on one connection', 100),
  } as const;

  // Only the variables of known options: a kubelet also sets ADDR_SERVER_SERVICE_HOST, ADDR_SERVER_PORT,
  // … for a Service named addr-server (service links), and those are not typos to refuse.
  for (const option of Object.keys(options)) {
    const variable = envName(ENV_PREFIX, option);
    const value = env[variable];
    if (value === undefined) continue;
    if (SERVICE_LINK.test(value.trim())) ignored.push({ variable, value });
    else fromEnv[option] = value;
  }

  const parser = yargs()
    .scriptName('server')
    .usage(USAGE)
    .strict()
    .parserConfiguration({ 'duplicate-arguments-array': false, 'camel-case-expansion': false })
    .version(false)
    .help('help')
    .alias('help', 'h')
    .wrap(Math.min(100, width))
    .options({
      ...options,
      'exit-on-stdin-close': {
        type: 'boolean',
        default: false,
        hidden: true,
        describe: 'stop when standard input closes',
      },
    })
    .config(fromEnv);

  let failure: Error | undefined;
  let output = '';
  const args = parser.parse([...argv], {}, (error, _argv, text) => {
    failure = error ?? undefined;
    output = text;
  }) as Record<string, unknown>;
  if (failure) throw new UsageError(`server: ${failure.message} (see --help)`);
  if (args.help) return { kind: 'help', text: output };
  for (const arg of argv) {
    // yargs reads `--exit-on-stdin-close=maybe` as false; a flag's value must say true or false.
    const value = /^--(?:no-)?exit-on-stdin-close=(.*)$/.exec(arg)?.[1];
    if (value !== undefined && value !== 'true' && value !== 'false')
      throw new UsageError(
        `server: --exit-on-stdin-close takes no value, or true or false; got ${JSON.stringify(value)} (see --help)`,
      );
  }

  const n = (option: string) => args[option] as number;
  return {
    kind: 'serve',
    ignored,
    options: {
      host: args.host as string,
      httpPort: n('http-port'),
      grpcPort: n('grpc-port'),
      delayMs: n('delay-ms'),
      delayJitterMs: n('delay-jitter-ms'),
      failPercent: n('fail-percent'),
      failCode: args['fail-code'] as FailCode,
      shutdownDelayMs: n('shutdown-delay-ms'),
      graceMs: n('grace-ms'),
      maxConnectionAgeMs: n('max-connection-age-ms'),
      idleTimeoutMs: n('idle-timeout-ms'),
      keepaliveMs: n('keepalive-ms'),
      keepaliveTimeoutMs: n('keepalive-timeout-ms'),
      maxConnections: n('max-connections'),
      maxConnectionsPerPeer: n('max-connections-per-peer'),
      maxStreams: n('max-streams'),
      exitOnStdinClose: args['exit-on-stdin-close'] === true,
    },
  };
}

/** A percentage from 0 to 100, decimals allowed ("20", "0.5"); nothing else ("1e2", "50%", ""). */
function parsePercent(value: unknown, label: string): number {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  const number = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!(number >= 0 && number <= 100))
    throw new Error(
      `${label} must be a percentage from 0 to 100, got ${text === '' ? 'nothing' : JSON.stringify(value)}`,
    );
  return number;
}

function parseFailCode(value: unknown, label: string): FailCode {
  const text = String(value).trim().toUpperCase();
  if (text in FAIL_CODES) return text as FailCode;
  throw new Error(
    `${label} must be a gRPC status other than OK (${Object.keys(HTTP_STATUS).join(', ')}), got ${JSON.stringify(value)}`,
  );
}
