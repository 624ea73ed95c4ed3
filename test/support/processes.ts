// Runs the built executables (out/) the way a user does, and watches what they print.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseListening, parseReplyLine } from '../../src/common/output.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const bin = (name: string) => `${root}out/${name}`;

export interface Running {
  child: ChildProcess;
  /** stdout and stderr lines, in arrival order. */
  lines: string[];
  /** Resolves with the first line (already seen or to come) matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => running.forEach((child) => child.kill('SIGKILL')));

export function start(name: string, args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(bin(name), args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const lines: string[] = [];
  const watchers = new Set<() => void>();
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      lines.push(...parts);
      watchers.forEach((check) => check());
    });
  }
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? -1);
    }),
  );
  const waitFor = (pattern: RegExp, timeoutMs = 10_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const timer = setTimeout(() => {
        watchers.delete(check);
        reject(new Error(`${name}: no line matching ${pattern} within ${timeoutMs} ms; got:\n${lines.join('\n')}`));
      }, timeoutMs);
      const check = () => {
        for (const line of lines) {
          const match = pattern.exec(line);
          if (match) {
            clearTimeout(timer);
            watchers.delete(check);
            resolve(match);
            return;
          }
        }
      };
      watchers.add(check);
      check();
    });
  const stop = (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  return { child, lines, waitFor, exited, stop };
}

/** The exit code, or 'timeout' (and the process killed) when it has not exited within timeoutMs. */
export async function exitWithin(proc: Running, timeoutMs: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    proc.exited,
    new Promise<string>((resolve) => (timer = setTimeout(resolve, timeoutMs, 'timeout'))),
  ]);
  clearTimeout(timer);
  if (code === 'timeout') await proc.stop('SIGKILL');
  return code;
}

/** Runs a program to its end (bounded by timeoutMs) and returns its exit code and output. */
export async function run(name: string, args: string[], timeoutMs = 20_000, env: Record<string, string> = {}) {
  const proc = start(name, args, env);
  const code = await exitWithin(proc, timeoutMs);
  await new Promise((resolve) => setImmediate(resolve));
  return { code, lines: proc.lines, output: proc.lines.join('\n') };
}

export interface ServerProcess extends Running {
  httpPort: number;
  grpcPort: number;
}

/** Starts out/server on loopback (ephemeral ports unless given) and waits until it listens. */
export async function startServer(
  podIp: string,
  extra: string[] = [],
  ports = { http: 0, grpc: 0 },
): Promise<ServerProcess> {
  const proc = start(
    'server',
    ['--host', '127.0.0.1', '--http-port', String(ports.http), '--grpc-port', String(ports.grpc), ...extra],
    { POD_IP: podIp, POD_NAME: `pod-${podIp}` },
  );
  const match = await proc.waitFor(/msg=listening /);
  const listening = parseListening(match.input ?? '');
  if (!listening) throw new Error(`server: a listening line that does not parse: ${match.input}`);
  return { ...proc, httpPort: listening.http.port, grpcPort: listening.grpc.port };
}

/** A port that was free a moment ago (for tests that must restart a server on the same port). */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** "#N: ip" lines → [N, ip] pairs. */
export function replies(lines: string[]): Array<[number, string]> {
  return lines.flatMap((line) => {
    const reply = parseReplyLine(line);
    return reply && 'ip' in reply ? [[reply.n, reply.ip] as [number, string]] : [];
  });
}

const WINDOW_PER_POD = 4;

/** Waits until the client's latest replies (4 per pod) come from exactly `pods`, each at least once. */
export async function settlesOn(client: Running, pods: string[], what: string, timeoutMs = 20_000): Promise<void> {
  const since = replies(client.lines).length;
  const window = WINDOW_PER_POD * pods.length;
  const expected = [...pods].sort().join(' ');
  let seen = '';
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(50)) {
    const recent = replies(client.lines)
      .slice(since)
      .slice(-window)
      .map(([, ip]) => ip);
    seen = [...new Set(recent)].sort().join(' ');
    if (recent.length === window && seen === expected) return;
  }
  assert.fail(
    `${what}: the last ${window} replies came from [${seen}], not [${expected}]; client printed:\n${client.lines.slice(-30).join('\n')}`,
  );
}
