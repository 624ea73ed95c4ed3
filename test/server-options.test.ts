// addr-server's options, parsed in-process: every option by flag and by ADDR_SERVER_<OPTION>, the flag
// winning, bad values refused with a line that names the flag or the variable, and Kubernetes service
// link variables left alone. (test/e2e/cli.test.ts runs the program for the exit codes.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseServerArgs, UsageError, type ServerOptions } from '../src/server/options.js';

const DEFAULTS: ServerOptions = {
  host: '0.0.0.0',
  httpPort: 8080,
  grpcPort: 30051,
  delayMs: 0,
  delayJitterMs: 0,
  failPercent: 0,
  failCode: 'UNAVAILABLE',
  shutdownDelayMs: 0,
  graceMs: 20_000,
  maxConnectionAgeMs: 0,
  idleTimeoutMs: 60_000,
  keepaliveMs: 30_000,
  keepaliveTimeoutMs: 10_000,
  maxConnections: 1000,
  maxConnectionsPerPeer: 0,
  maxStreams: 100,
  exitOnStdinClose: false,
};

function options(argv: string[], env: Record<string, string> = {}): ServerOptions {
  const invocation = parseServerArgs(argv, env);
  assert.equal(invocation.kind, 'serve');
  return invocation.kind === 'serve' ? invocation.options : DEFAULTS;
}

function usageError(argv: string[], env: Record<string, string> = {}): string {
  try {
    parseServerArgs(argv, env);
  } catch (error) {
    assert.ok(error instanceof UsageError, String(error));
    assert.equal(error.exitCode, 2);
    assert.doesNotMatch(error.message, /\n/, 'one line');
    assert.match(error.message, /^server: .* \(see --help\)$/);
    return error.message;
  }
  assert.fail(`${argv.join(' ')} ${JSON.stringify(env)} was accepted`);
}

// Each option: its flag, a value, the variable, and what it becomes.
const EVERY_OPTION: Array<[flag: string, value: string, expected: Partial<ServerOptions>]> = [
  ['host', '127.0.0.1', { host: '127.0.0.1' }],
  ['http-port', '0', { httpPort: 0 }],
  ['grpc-port', '65535', { grpcPort: 65535 }],
  ['delay-ms', '200', { delayMs: 200 }],
  ['delay-jitter-ms', '50', { delayJitterMs: 50 }],
  ['fail-percent', '12.5', { failPercent: 12.5 }],
  ['fail-code', 'RESOURCE_EXHAUSTED', { failCode: 'RESOURCE_EXHAUSTED' }],
  ['shutdown-delay-ms', '5000', { shutdownDelayMs: 5000 }],
  ['grace-ms', '0', { graceMs: 0 }],
  ['max-connection-age-ms', '30000', { maxConnectionAgeMs: 30_000 }],
  ['idle-timeout-ms', '0', { idleTimeoutMs: 0 }],
  ['keepalive-ms', '0', { keepaliveMs: 0 }],
  ['keepalive-timeout-ms', '1', { keepaliveTimeoutMs: 1 }],
  ['max-connections', '3', { maxConnections: 3 }],
  ['max-connections-per-peer', '2', { maxConnectionsPerPeer: 2 }],
  ['max-streams', '7', { maxStreams: 7 }],
];

const variable = (flag: string) => `ADDR_SERVER_${flag.toUpperCase().replaceAll('-', '_')}`;

describe('addr-server options', () => {
  it('has these defaults', () => {
    assert.deepEqual(options([], {}), DEFAULTS);
  });

  for (const [flag, value, expected] of EVERY_OPTION) {
    it(`--${flag} ${value}, --${flag}=${value} and ${variable(flag)}=${value} all set it`, () => {
      assert.deepEqual(options([`--${flag}`, value]), { ...DEFAULTS, ...expected });
      assert.deepEqual(options([`--${flag}=${value}`]), { ...DEFAULTS, ...expected });
      assert.deepEqual(options([], { [variable(flag)]: value }), { ...DEFAULTS, ...expected });
    });
  }

  it('takes the flag over the variable, and the last of a flag given twice', () => {
    assert.equal(options(['--http-port', '2'], { ADDR_SERVER_HTTP_PORT: '1' }).httpPort, 2);
    assert.equal(options(['--http-port', '2', '--http-port', '3']).httpPort, 3);
    assert.equal(options([], { ADDR_SERVER_HTTP_PORT: '1' }).httpPort, 1);
  });

  it('takes --exit-on-stdin-close as a flag, or true or false, and nothing else', () => {
    assert.equal(options(['--exit-on-stdin-close']).exitOnStdinClose, true);
    assert.equal(options(['--exit-on-stdin-close=true']).exitOnStdinClose, true);
    assert.equal(options(['--exit-on-stdin-close=false']).exitOnStdinClose, false);
    assert.equal(options(['--no-exit-on-stdin-close']).exitOnStdinClose, false);
    assert.match(
      usageError(['--exit-on-stdin-close=maybe']),
      /--exit-on-stdin-close takes no value, or true or false; got "maybe"/,
    );
  });

  it('takes fail codes in any case, but no status that is not a failure', () => {
    assert.equal(options(['--fail-code', 'internal']).failCode, 'INTERNAL');
    assert.match(usageError(['--fail-code', 'OK']), /--fail-code must be a gRPC status other than OK .* got "OK"/);
    assert.match(usageError(['--fail-code', '14']), /--fail-code must be a gRPC status other than OK/);
  });

  const badValues: Array<[string[], Record<string, string>, RegExp]> = [
    [['--http-port', 'abc'], {}, /--http-port must be a port number from 0 to 65535, got "abc"/],
    [['--grpc-port', '70000'], {}, /--grpc-port must be a port number from 0 to 65535, got "70000"/],
    [['--grace-ms', '-5'], {}, /--grace-ms must be a whole number of milliseconds from 0 to 2147483647, got "-5"/],
    [['--grace-ms', '1e15'], {}, /--grace-ms must be a whole number of milliseconds/],
    [['--delay-ms', '2.5'], {}, /--delay-ms must be a whole number of milliseconds/],
    [['--max-connection-age-ms', '99999999999'], {}, /--max-connection-age-ms must be .* to 2147483647/],
    [['--max-connections', '0'], {}, /--max-connections must be a whole number from 1/],
    [['--keepalive-timeout-ms', '0'], {}, /--keepalive-timeout-ms must be a whole number of milliseconds from 1/],
    [['--fail-percent', '101'], {}, /--fail-percent must be a percentage from 0 to 100, got "101"/],
    [['--fail-percent', '50%'], {}, /--fail-percent must be a percentage from 0 to 100, got "50%"/],
    [['--fail-percent', '-1'], {}, /--fail-percent must be a percentage/],
    [['--host', ' '], {}, /--host must not be empty/],
    [['--http-port'], {}, /Not enough arguments following: http-port/],
    [['--bogus'], {}, /^server: Unknown argument: bogus \(see --help\)$/],
    [['--bogus-flag'], {}, /^server: Unknown argument: bogus-flag \(see --help\)$/],
    [['extra'], {}, /Unknown argument: extra/],
    [[], { ADDR_SERVER_GRACE_MS: '' }, /ADDR_SERVER_GRACE_MS must be a whole number of milliseconds .*, got nothing/],
    [
      [],
      { ADDR_SERVER_HTTP_PORT: 'eighty' },
      /ADDR_SERVER_HTTP_PORT must be a port number from 0 to 65535, got "eighty"/,
    ],
    [[], { ADDR_SERVER_FAIL_PERCENT: 'half' }, /ADDR_SERVER_FAIL_PERCENT must be a percentage/],
    [[], { ADDR_SERVER_FAIL_CODE: 'NOPE' }, /ADDR_SERVER_FAIL_CODE must be a gRPC status/],
    [[], { ADDR_SERVER_GRPC_PORT: 'http://10.96.0.5:30051' }, /ADDR_SERVER_GRPC_PORT must be a port number/],
  ];
  for (const [argv, env, message] of badValues) {
    it(`refuses ${[...argv, ...Object.entries(env).map(([k, v]) => `${k}=${JSON.stringify(v)}`)].join(' ')} in one line, exit 2`, () => {
      assert.match(usageError(argv, env), message);
    });
  }

  it('names the flag when both are set and the flag is bad, the variable when only it is', () => {
    assert.match(usageError(['--delay-ms', 'x'], { ADDR_SERVER_DELAY_MS: '5' }), /--delay-ms must/);
    assert.match(usageError(['--grpc-port', '1'], { ADDR_SERVER_DELAY_MS: 'x' }), /ADDR_SERVER_DELAY_MS must/);
  });

  it('leaves alone the service link variables a kubelet sets for Services named addr-server-grpc, -http, …', () => {
    // pkg/kubelet/envvars: <NAME>_PORT=tcp://<cluster IP>:<port> for a Service <name>.
    const links = {
      ADDR_SERVER_GRPC_PORT: 'tcp://10.96.0.5:30051',
      ADDR_SERVER_HTTP_PORT: 'tcp://10.96.0.6:80',
      ADDR_SERVER_DELAY_MS: 'udp://10.96.0.7:53',
      ADDR_SERVER_GRACE_MS: 'sctp://10.96.0.8:9999',
      // and the rest of the set, which names no option
      ADDR_SERVER_GRPC_SERVICE_HOST: '10.96.0.5',
      ADDR_SERVER_GRPC_PORT_30051_TCP: 'tcp://10.96.0.5:30051',
    };
    const invocation = parseServerArgs([], { ...links, ADDR_SERVER_MAX_STREAMS: '9' });
    assert.equal(invocation.kind, 'serve');
    if (invocation.kind !== 'serve') return;
    assert.deepEqual(invocation.options, { ...DEFAULTS, maxStreams: 9 });
    assert.deepEqual(invocation.ignored.map((ignored) => ignored.variable).sort(), [
      'ADDR_SERVER_DELAY_MS',
      'ADDR_SERVER_GRACE_MS',
      'ADDR_SERVER_GRPC_PORT',
      'ADDR_SERVER_HTTP_PORT',
    ]);
    assert.equal(options(['--grpc-port', '1'], links).grpcPort, 1);
  });

  it('returns the help text, naming every option, for --help and -h', () => {
    for (const flag of ['--help', '-h']) {
      const invocation = parseServerArgs([flag], {});
      assert.equal(invocation.kind, 'help');
      if (invocation.kind !== 'help') return;
      for (const [option] of EVERY_OPTION) assert.match(invocation.text, new RegExp(`--${option}\\b`));
      assert.doesNotMatch(invocation.text, /exit-on-stdin-close/, 'hidden');
    }
  });
});
