// The clients' command lines, parsed in-process: what each line means, and the one line a bad one gets.
// (test/e2e/cli.test.ts runs the programs for the exit codes.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../src/common/cli.js';
import { parseClientGrpcArgs, type ClientGrpcOptions } from '../src/clients/client-grpc-args.js';
import { parseClientHttpArgs, type ClientHttpOptions } from '../src/clients/client-http-args.js';

function grpcOptions(argv: string[], env: NodeJS.ProcessEnv = {}): ClientGrpcOptions {
  const parsed = parseClientGrpcArgs(argv, env);
  if ('help' in parsed) assert.fail(`help instead of options for ${argv.join(' ')}`);
  return parsed.options;
}

function httpOptions(argv: string[]): ClientHttpOptions {
  const parsed = parseClientHttpArgs(argv, {});
  if ('help' in parsed) assert.fail(`help instead of options for ${argv.join(' ')}`);
  return parsed.options;
}

/** The UsageError's message (and that it is one line, exit code 2). */
function usageError(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    assert.ok(error instanceof UsageError, `not a UsageError: ${String(error)}`);
    assert.equal(error.exitCode, 2);
    assert.doesNotMatch(error.message, /\n/, 'one line');
    return error.message;
  }
  assert.fail('parsed without a usage error');
}

/** grpc-js's outlier detection over round_robin, its durations as {seconds, nanos} as grpc-js wants them. */
const OUTLIER_DETECTION = JSON.stringify({
  loadBalancingConfig: [
    {
      outlier_detection: {
        interval: { seconds: 1, nanos: 0 },
        failure_percentage_ejection: {
          threshold: 50,
          enforcement_percentage: 100,
          minimum_hosts: 3,
          request_volume: 10,
        },
        child_policy: [{ round_robin: {} }],
      },
    },
  ],
});

describe('client-grpc command line', () => {
  it('defaults: one call a second, 5 s deadline, text, pick_first, keepalive 2 s + 1 s, connect timeout 20 s', () => {
    assert.deepEqual(grpcOptions(['localhost:30051']), {
      target: 'localhost:30051',
      scheme: undefined,
      pace: { intervalMs: 1000 },
      count: undefined,
      deadlineMs: 5000,
      output: 'text',
      stdinLifeline: false,
      lb: 'pick_first',
      keepaliveMs: 2000,
      keepaliveTimeoutMs: 1000,
      connectTimeoutMs: 20_000,
    });
  });

  it('the defaults find a hung peer before a call reaches its deadline', () => {
    const { keepaliveMs, keepaliveTimeoutMs, deadlineMs } = grpcOptions(['localhost:30051']);
    assert.ok(keepaliveMs + keepaliveTimeoutMs < deadlineMs);
  });

  const cases: Array<[string[], Partial<ClientGrpcOptions>]> = [
    [['k8s:///addr-server.grpc-lb:grpc'], { scheme: 'k8s', lb: 'round_robin' }],
    [['k8s:///addr-server.grpc-lb:grpc', '--lb', 'pick_first'], { lb: 'pick_first' }],
    [['dns:///addr-server:30051', '--lb', 'round_robin'], { scheme: 'dns', lb: 'round_robin' }],
    [['localhost:1', '--rate', '200', '--count', '10'], { pace: { perSecond: 200 }, count: 10 }],
    [['localhost:1', '--interval', '20'], { pace: { intervalMs: 20 } }],
    [['localhost:1', '--output', 'jsonl', '--deadline-ms', '250'], { output: 'jsonl', deadlineMs: 250 }],
    [['localhost:1', '--keepalive-ms', '0'], { keepaliveMs: 0 }],
    [['localhost:1', '--keepalive-timeout-ms', '500'], { keepaliveTimeoutMs: 500 }],
    [['localhost:1', '--connect-timeout-ms', '2000'], { connectTimeoutMs: 2000 }],
    [['localhost:1', '--count=3', '--count', '4'], { count: 4 }], // the last one wins
    [['localhost:1', '--exit-on-stdin-close'], { stdinLifeline: true }],
    [
      ['k8s:///addr-server:grpc', '--service-config', OUTLIER_DETECTION],
      { serviceConfig: OUTLIER_DETECTION, lb: 'round_robin' },
    ],
  ];
  for (const [argv, expected] of cases) {
    it(argv.join(' '), () => {
      const options = grpcOptions(argv);
      for (const [key, value] of Object.entries(expected))
        assert.deepEqual(options[key as keyof ClientGrpcOptions], value);
    });
  }

  it('an xds: target with a bootstrap in the environment', () => {
    assert.equal(grpcOptions(['xds:///addr-server'], { GRPC_XDS_BOOTSTRAP_CONFIG: '{}' }).scheme, 'xds');
    assert.equal(grpcOptions(['xds:///addr-server'], { GRPC_XDS_BOOTSTRAP: '/etc/xds.json' }).scheme, 'xds');
  });

  it('--help, even beside a mistake: the usage, the options, the note on keepalive', () => {
    for (const argv of [['--help'], ['-h'], ['localhost:1', '--bogus', '--help'], ['--rate', '0', '-h']]) {
      const parsed = parseClientGrpcArgs(argv, {});
      assert.ok('help' in parsed, argv.join(' '));
      assert.match(parsed.help, /client-grpc TARGET \[options\]/);
      for (const flag of ['--rate', '--output', '--keepalive-timeout-ms', '--connect-timeout-ms'])
        assert.ok(parsed.help.includes(flag), flag);
      assert.match(parsed.help, /too_many_pings/);
    }
    // after "--", --help is an argument (here a second TARGET)
    assert.equal(
      usageError(() => parseClientGrpcArgs(['localhost:1', '--', '--help'], {})),
      'give exactly one TARGET',
    );
  });

  const errors: Array<[string[], RegExp]> = [
    [[], /^TARGET is missing$/],
    [['localhost:30051', 'extra'], /^give exactly one TARGET$/],
    [['localhost:30051', '--bogus-flag'], /^Unknown argument: bogus-flag$/],
    [
      ['localhost:30051', '--lb', 'random'],
      /^Invalid values: Argument: lb, Given: "random", Choices: "pick_first", "round_robin"$/,
    ],
    [['foo:///bar'], /^unknown scheme "foo:" in TARGET foo:\/\/\/bar \(use dns:, ipv4:, ipv6:, unix:, k8s: or xds:\)$/],
    [['xds:///addr-server'], /^an xds: TARGET needs GRPC_XDS_BOOTSTRAP \(a file\) or GRPC_XDS_BOOTSTRAP_CONFIG/],
    [['localhost:30051', '--count', '0'], /^--count must be a whole number from 1 to 1000000000, got "0"$/],
    [['localhost:30051', '--deadline-ms', '1e15'], /^--deadline-ms must be a whole number of milliseconds from 1/],
    [['localhost:30051', '--interval', '0'], /^--interval must be a whole number of milliseconds from 10/],
    [['localhost:30051', '--keepalive-ms', 'soon'], /^--keepalive-ms must be a whole number of milliseconds/],
    [
      ['localhost:30051', '--keepalive-timeout-ms', '0'],
      /^--keepalive-timeout-ms must be a whole number of milliseconds from 1/,
    ],
    [
      ['localhost:30051', '--connect-timeout-ms', '-1'],
      /^--connect-timeout-ms must be a whole number of milliseconds from 1/,
    ],
    [
      ['localhost:30051', '--rate', '0'],
      /^--rate must be a whole number of calls per second from 1 to 10000, got "0"$/,
    ],
    [['localhost:30051', '--rate', '2.5'], /^--rate must be a whole number of calls per second/],
    [['localhost:30051', '--service-config', '{'], /^--service-config is not JSON: /],
    [
      ['localhost:30051', '--service-config', '{}'],
      /^--service-config must be an object with a loadBalancingConfig list/,
    ],
    // grpc-js would drop this one without a word and use pick_first: its durations must be objects.
    [
      [
        'localhost:30051',
        '--service-config',
        '{"loadBalancingConfig":[{"outlier_detection":{"interval":"1s","child_policy":[{"round_robin":{}}]}}]}',
      ],
      /^--service-config: grpc-js cannot use its loadBalancingConfig: .*Duration/,
    ],
    [['localhost:30051', '--rate', '10', '--interval', '100'], /^--interval and --rate exclude each other/],
    [
      ['localhost:30051', '--output', 'xml'],
      /^Invalid values: Argument: output, Given: "xml", Choices: "text", "jsonl"$/,
    ],
    [['localhost:30051', '--deadline-ms'], /^Not enough arguments following: deadline-ms$/],
    [
      ['localhost:30051', '--exit-on-stdin-close=soon'],
      /^--exit-on-stdin-close takes no value, or true or false; got "soon"$/,
    ],
  ];
  for (const [argv, message] of errors) {
    it(`${argv.join(' ') || '(no arguments)'}: ${message.source}`, () => {
      assert.match(
        usageError(() => parseClientGrpcArgs(argv, {})),
        message,
      );
    });
  }
});

describe('client-http command line', () => {
  it('defaults: one request a second, a new connection each, 5 s deadline, text', () => {
    const options = httpOptions(['http://127.0.0.1:30080/addr']);
    assert.equal(options.url.href, 'http://127.0.0.1:30080/addr');
    assert.deepEqual(
      { ...options, url: undefined },
      {
        url: undefined,
        keepalive: false,
        pace: { intervalMs: 1000 },
        count: undefined,
        deadlineMs: 5000,
        output: 'text',
        stdinLifeline: false,
      },
    );
  });

  it('--rate, --keepalive, --output jsonl, --deadline-ms', () => {
    const options = httpOptions([
      'https://addr.example/addr',
      '--rate',
      '50',
      '--keepalive',
      '--output',
      'jsonl',
      '--deadline-ms',
      '250',
    ]);
    assert.deepEqual(
      [options.pace, options.keepalive, options.output, options.deadlineMs],
      [{ perSecond: 50 }, true, 'jsonl', 250],
    );
    assert.equal(httpOptions(['http://127.0.0.1:1/addr', '--keepalive=false']).keepalive, false);
  });

  it('--help', () => {
    const parsed = parseClientHttpArgs(['--help'], {});
    assert.ok('help' in parsed);
    assert.match(parsed.help, /client-http URL \[options\]/);
    assert.match(parsed.help, /--keepalive/);
  });

  const errors: Array<[string[], RegExp]> = [
    [[], /^URL is missing$/],
    [['not a url'], /^not a URL: not a url \(try http:\/\/127\.0\.0\.1:30080\/addr\)$/],
    [['ftp://127.0.0.1/addr'], /^URL must start with http:\/\/ or https:\/\/, got ftp:$/],
    [['http://127.0.0.1:1/addr', '--interval', '-1'], /^--interval must be/],
    [['http://127.0.0.1:1/addr', '--keepalive=maybe'], /^--keepalive takes no value, or true or false; got "maybe"$/],
    [['http://127.0.0.1:1/addr', '--count', '2.5'], /^--count must be a whole number from 1/],
    [['http://127.0.0.1:1/addr', '--rate', '5', '--interval', '10'], /^--interval and --rate exclude each other/],
    [['http://127.0.0.1:1/addr', '--lb', 'round_robin'], /^Unknown argument: lb$/],
  ];
  for (const [argv, message] of errors) {
    it(`${argv.join(' ') || '(no arguments)'}: ${message.source}`, () => {
      assert.match(
        usageError(() => parseClientHttpArgs(argv, {})),
        message,
      );
    });
  }
});
