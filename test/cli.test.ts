// Bad input gets the usage and exit code 2; a taken port gets one clear line and exit code 1.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { run } from './support/processes.js';

const usageErrors: Array<[string, string[], RegExp]> = [
  ['server', ['--http-port', 'abc'], /--http-port must be a port number/],
  ['server', ['--grpc-port', '70000'], /--grpc-port must be a port number/],
  ['server', ['--bogus'], /Unknown argument: bogus/],
  ['server', ['--grace-ms', '-5'], /--grace-ms must be a whole number/],
  ['client-http', [], /URL is missing/],
  ['client-http', ['not a url'], /not a URL/],
  ['client-http', ['ftp://127.0.0.1/addr'], /must start with http/],
  ['client-http', ['http://127.0.0.1:1/addr', '--interval', '-1'], /--interval must be/],
  ['client-grpc', [], /TARGET is missing/],
  ['client-grpc', ['localhost:30051', '--lb', 'random'], /Invalid values/],
  ['client-grpc', ['foo:///bar'], /unknown scheme "foo:"/],
  ['client-grpc', ['localhost:30051', '--count', '0'], /--count must be/],
  ['client-grpc', ['localhost:30051', 'extra'], /exactly one TARGET/],
];

describe('command-line errors', () => {
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
      const args = ['--host', '127.0.0.1', '--http-port', which === 'http' ? String(port) : '0', '--grpc-port', which === 'grpc' ? String(port) : '0'];
      const { code, lines } = await run('server', args);
      squatter.close();
      assert.equal(code, 1);
      const printed = lines.filter((line) => line.trim() !== '');
      assert.deepEqual(printed, [`server: ${which === 'http' ? 'HTTP' : 'gRPC'} port ${port} is already in use on 127.0.0.1`]);
    });
  }
});
