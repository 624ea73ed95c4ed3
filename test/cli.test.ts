// Bad input gets exit code 2; a taken port gets one clear line and exit code 1. (The server's options
// are tested one by one in-process, in server-options.test.ts; here, the program's exit codes.)
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { run, start } from './support/processes.js';
import { createServer as createHttpServer } from 'node:http';

const usageErrors: Array<[string, string[], RegExp]> = [
  ['client-http', [], /URL is missing/],
  ['client-http', ['not a url'], /not a URL/],
  ['client-http', ['ftp://127.0.0.1/addr'], /must start with http/],
  ['client-http', ['http://127.0.0.1:1/addr', '--interval', '-1'], /--interval must be/],
  ['client-grpc', [], /TARGET is missing/],
  ['client-grpc', ['localhost:30051', '--lb', 'random'], /Invalid values/],
  ['client-grpc', ['foo:///bar'], /unknown scheme "foo:"/],
  ['client-grpc', ['localhost:30051', '--count', '0'], /--count must be/],
  ['client-grpc', ['localhost:30051', 'extra'], /exactly one TARGET/],
  [
    'client-grpc',
    ['localhost:30051', '--deadline-ms', '1e15'],
    /--deadline-ms must be a whole number of milliseconds from 1/,
  ],
  ['client-grpc', ['localhost:30051', '--interval', '0'], /--interval must be a whole number of milliseconds from 10/],
  [
    'client-grpc',
    ['localhost:30051', '--keepalive-ms', 'soon'],
    /--keepalive-ms must be a whole number of milliseconds/,
  ],
  [
    'client-http',
    ['http://127.0.0.1:1/addr', '--keepalive=maybe'],
    /--keepalive takes no value, or true or false; got "maybe"/,
  ],
  ['client-http', ['http://127.0.0.1:1/addr', '--count', '2.5'], /--count must be a whole number from 1/],
];

const serverUsageErrors: Array<[string[], Record<string, string>, string]> = [
  [['--http-port', 'abc'], {}, 'server: --http-port must be a port number from 0 to 65535, got "abc" (see --help)'],
  [
    [],
    { ADDR_SERVER_GRACE_MS: '' },
    'server: ADDR_SERVER_GRACE_MS must be a whole number of milliseconds from 0 to 2147483647, got nothing (see --help)',
  ],
];

describe('command-line errors', () => {
  for (const [args, env, line] of serverUsageErrors) {
    it(`server ${args.join(' ')} ${JSON.stringify(env)}: one line naming the flag or variable, exit 2`, async () => {
      const { code, lines } = await run('server', args, 20_000, env);
      assert.equal(code, 2, lines.join('\n'));
      assert.deepEqual(
        lines.filter((l) => l.trim() !== ''),
        [line],
      );
    });
  }

  it('client-http on an https:// URL to a plain-HTTP server: one clear line, not OpenSSL internals', async () => {
    const plain = createHttpServer((_req, res) => res.end('10.1.0.8')).listen(0, '127.0.0.1');
    await once(plain, 'listening');
    const { port } = plain.address() as { port: number };
    const client = start('client-http', [`https://127.0.0.1:${port}/addr`, '--interval', '50']);
    try {
      const [line] = await client.waitFor(/^Error: .*/);
      assert.equal(
        line,
        `Error: TLS handshake with 127.0.0.1:${port} failed: it does not speak HTTPS there (try http://)`,
      );
    } finally {
      await client.stop();
      plain.close();
    }
  });

  for (const [program, args, message] of usageErrors) {
    it(`${program} ${args.join(' ') || '(no arguments)'}: usage and exit 2`, async () => {
      const { code, output } = await run(program, args);
      assert.equal(code, 2, output);
      assert.match(output, message);
      assert.match(output, /Options:/);
      assert.doesNotMatch(output, /^\s+at /m, 'no stack trace');
    });
  }

  for (const program of ['server', 'client-http', 'client-grpc']) {
    it(`${program} --help: usage and exit 0`, async () => {
      const { code, output } = await run(program, ['--help']);
      assert.equal(code, 0);
      assert.match(output, /Options:/);
    });
  }

  for (const which of ['http', 'grpc'] as const) {
    it(`server on a taken ${which} port: one clear line, exit 1`, async () => {
      const squatter = createServer().listen(0, '127.0.0.1');
      await once(squatter, 'listening');
      const { port } = squatter.address() as { port: number };
      const args = [
        '--host',
        '127.0.0.1',
        '--http-port',
        which === 'http' ? String(port) : '0',
        '--grpc-port',
        which === 'grpc' ? String(port) : '0',
      ];
      const { code, lines } = await run('server', args);
      squatter.close();
      assert.equal(code, 1);
      const printed = lines.filter((line) => line.trim() !== '');
      assert.deepEqual(printed, [
        `server: ${which === 'http' ? 'HTTP' : 'gRPC'} port ${port} is already in use on 127.0.0.1`,
      ]);
    });
  }
});
