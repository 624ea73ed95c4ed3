// Bad input gets one clear line and exit code 2; a taken port gets one clear line and exit code 1. (The
// command lines are tested one option at a time in-process, in server-options.test.ts and
// client-args.test.ts; here, what the programs print and exit with.)
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { exitWithin, run, start } from './support/processes.js';
import { createServer as createHttpServer } from 'node:http';

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

  const clientErrors: Array<[string, string[], string]> = [
    [
      'client-grpc',
      ['localhost:30051', '--bogus-flag'],
      'client-grpc: Unknown argument: bogus-flag (see client-grpc --help)',
    ],
    ['client-http', [], 'client-http: URL is missing (see client-http --help)'],
  ];
  for (const [program, args, line] of clientErrors) {
    it(`${program} ${args.join(' ') || '(no arguments)'}: the one line that matters, exit 2`, async () => {
      const proc = start(program, args);
      const code = await exitWithin(proc, 20_000);
      assert.equal(code, 2, proc.lines.join('\n'));
      assert.deepEqual(
        proc.lines.filter((printed) => printed !== ''),
        [line],
      );
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
