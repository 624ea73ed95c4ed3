// Runs the built executables (out/) the way a user does, and watches what they print. Each child runs
// under src/common/supervised.ts, as the lab runs its own; whatever a test leaves running is killed when
// the test file's process exits.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { parseListening, parseReplyLine } from '../../../src/common/output.js';
import { Supervised } from '../../../src/common/supervised.js';
import { freePort } from '../../support/free-port.js';
import { root } from '../../support/root.js';
import { waitUntil } from '../../support/wait.js';

export { freePort, root };
export const bin = (name: string) => `${root}out/${name}`;

export interface Running {
  child: ChildProcess;
  /** stdout and stderr lines, in arrival order. */
  lines: string[];
  /** Resolves with the first line (already seen or to come) matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  /** Sends `signal` (SIGTERM unless told) unless it has exited; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

const running = new Set<Supervised>();
const killAll = () => running.forEach((child) => child.signal('SIGKILL'));
// A test that failed half-way may leave a program running: once the file's tests are done, nothing of it
// may keep the file's process (and so the whole run) alive.
after(killAll);
process.on('exit', killAll);

/** Starts out/`name`, as a user runs it. */
export function start(name: string, args: string[], env: Record<string, string> = {}): Running {
  return startCommand(bin(name), args, env, name);
}

/** Starts any program (the real prometheus, haproxy, …): `command` is its path or its name on PATH. */
export function startCommand(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  name = command,
): Running {
  const child = new Supervised(command, args, { env: { ...process.env, ...env } });
  running.add(child);
  const lines: string[] = [];
  const watchers = new Set<() => void>();
  child.on('line', (line) => {
    lines.push(line);
    watchers.forEach((check) => check());
  });
  const exited = child.exited.then(({ code, signal }) => {
    running.delete(child);
    return code ?? signal ?? -1;
  });
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
    child.signal(signal);
    return exited;
  };
  return { child: child.child, lines, waitFor, exited, stop };
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
  return { code, lines: proc.lines, output: proc.lines.join('\n') };
}

/** The lines a program printed, but for blank ones. */
export const printed = (lines: readonly string[]) => lines.filter((line) => line.trim() !== '');

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

/** "#N: ip" lines → [N, ip] pairs. */
export function replies(lines: readonly string[]): Array<[number, string]> {
  return lines.flatMap((line) => {
    const reply = parseReplyLine(line);
    return reply && 'ip' in reply ? [[reply.n, reply.ip] as [number, string]] : [];
  });
}

/** The pods a client's replies came from. */
export const podsIn = (lines: readonly string[]) => new Set(replies(lines).map(([, ip]) => ip));

const WINDOW_PER_POD = 4;

/** Waits until the client's latest replies (4 per pod) come from exactly `pods`, each at least once. */
export async function settlesOn(client: Running, pods: string[], what: string, timeoutMs = 20_000): Promise<void> {
  const since = replies(client.lines).length;
  const window = WINDOW_PER_POD * pods.length;
  const expected = [...pods].sort().join(' ');
  let seen = '';
  const settled = () => {
    const recent = replies(client.lines)
      .slice(since)
      .slice(-window)
      .map(([, ip]) => ip);
    seen = [...new Set(recent)].sort().join(' ');
    return recent.length === window && seen === expected;
  };
  await waitUntil(`${what}: the last ${window} replies come from [${expected}]`, settled, timeoutMs).catch(() =>
    assert.fail(
      `${what}: the last ${window} replies came from [${seen}], not [${expected}]; client printed:\n${client.lines.slice(-30).join('\n')}`,
    ),
  );
}

/** Whether a process is still there (signal 0 tests it without touching it). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The processes `pid` started that are running now (their parent, in /proc/PID/stat, is `pid`). */
export function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        // pid (comm) state ppid …: the command may hold spaces and parentheses, so read after the last ')'.
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}
