// The real kubectl against a kubeconfig, with a cache directory of its own (no discovery left over from
// another server), and plain HTTP requests for what kubectl never sends.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';

export interface Kubectl {
  (args: string[], timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  /** a long-running kubectl (`get -w`, `logs -f`) and its output so far */
  spawn(args: string[]): { child: ChildProcess; output: () => string };
}

export function kubectlFor(kubeconfig: string): Kubectl {
  const base = ['--kubeconfig', kubeconfig, '--cache-dir', mkdtempSync(`${tmpdir()}/grpc-lb-kubectl-`)];
  const run = (args: string[], timeoutMs = 30_000) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('kubectl', [...base, ...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr: error && code === -1 ? `${stderr}${error.message}` : stderr });
      });
    });
  return Object.assign(run, {
    spawn(args: string[]) {
      const child = spawn('kubectl', [...base, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      return { child, output: () => text };
    },
  });
}

export interface RawResponse {
  status: number;
  contentType: string;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => Record<string, unknown>;
}

/** One HTTP request, any method, headers and body; the body read for at most `readMs` (watches go on). */
export function raw(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer | string,
  readMs = 3000,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // A body goes with its length, as kubectl sends it (Node would frame a DELETE's body with neither).
    const length = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const allHeaders = { ...length, ...headers };
    const req = request(
      { host: '127.0.0.1', port, method, path, headers: allHeaders, setHost: !('host' in headers) },
      (res) => {
        let text = '';
        const done = () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            headers: res.headers,
            text,
            json: () => JSON.parse(text) as Record<string, unknown>,
          });
        };
        const timer = setTimeout(() => {
          res.destroy();
          done();
        }, readMs);
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', done);
        res.on('error', done);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Polls until `check` holds, for at most timeoutMs. */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
