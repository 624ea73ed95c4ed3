// out/ is self-contained: copied anywhere, its executables run with `node` and nothing from the checkout.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, describe, it } from 'node:test';
import { root } from './support/processes.js';

const elsewhere = mkdtempSync(`${tmpdir()}/grpc-lb-out-`);
cpSync(`${root}out`, elsewhere, { recursive: true });

function node(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, args, { cwd: tmpdir(), env: { PATH: process.env.PATH ?? '', ...env } });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return { child, output: () => output, exited: new Promise<number | null>((resolve) => child.on('exit', resolve)) };
}

describe('out/ copied away from the checkout', () => {
  after(() => rmSync(elsewhere, { recursive: true, force: true }));

  it('serves and answers: server, client-grpc and client-http run with node alone', async () => {
    const server = node([`${elsewhere}/server`, '--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0'], {
      POD_IP: '10.1.0.42',
    });
    const ports = await new Promise<RegExpMatchArray>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start: ${server.output()}`)), 10_000);
      server.child.stdout.on('data', () => {
        const match = /http=127\.0\.0\.1:(\d+) grpc=127\.0\.0\.1:(\d+)/.exec(server.output());
        if (match) {
          clearTimeout(timer);
          resolve(match);
        }
      });
    });
    const grpcClient = node([`${elsewhere}/client-grpc`, `127.0.0.1:${ports[2]}`, '--count', '1']);
    const httpClient = node([`${elsewhere}/client-http`, `http://127.0.0.1:${ports[1]}/addr`, '--count', '1']);
    assert.equal(await grpcClient.exited, 0);
    assert.equal(await httpClient.exited, 0);
    assert.equal(grpcClient.output().trim(), '#1: 10.1.0.42');
    assert.equal(httpClient.output().trim(), '#1: 10.1.0.42');
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  });
});
