// Starts the servers under test as child processes and reads their CPU time and peak memory from /proc.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
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

/** CPU time (user + system) the process has used so far, in milliseconds. */
export function cpuMs(pid: number): number {
  // /proc/PID/stat: the command name is in parentheses and may hold spaces; fields after it are fixed.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1000;
}

/** Peak resident set size so far (VmHWM), in MiB. */
export function peakRssMiB(pid: number): number {
  const kib = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib) / 1024;
}

/** Resident set size now (VmRSS), in MiB. */
export function rssMiB(pid: number): number {
  const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib) / 1024;
}
