// Starts the servers under test as child processes and reads their CPU time and peak memory from /proc.
import { spawn, type ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();

/** Remember a child so that stopAll() (on exit, Ctrl-C or SIGTERM) ends it too. */
export function track<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

export function stopAll(): void {
  for (const child of children) child.kill('SIGKILL');
}
process.on('exit', stopAll);

export interface Started {
  child: ChildProcess;
  /** host:port for each protocol the process printed, e.g. { http: '127.0.0.1:4312' }. */
  listening: Record<string, string>;
  line: string;
}

/** Spawns `command` and resolves once it prints a line matching `ready` (its named groups become `listening`). */
export function startProcess(
  command: string,
  args: string[],
  ready: RegExp,
  env: Record<string, string> = {},
): Promise<Started> {
  const child = track(spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] }));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} did not start within 15 s`)), 15_000);
    let seen = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      seen += chunk;
      const match = ready.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve({ child, listening: { ...match.groups }, line: match[0] });
      }
    });
    child.on('exit', (code) => reject(new Error(`${command} exited (${code}) before it was ready:\n${seen}`)));
  });
}

export { cpuMs, peakRssMiB, rssMiB } from '../src/common/proc.js';
