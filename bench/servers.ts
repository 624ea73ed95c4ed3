// Starts the servers under test as child processes and reads their CPU time and peak memory from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseLabReady, type LabReady } from '../src/common/output.js';

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

export interface Started<T = unknown> {
  child: ChildProcess;
  /** What the process's ready line said (where it listens), as its parser read it. */
  ready: T;
}

/**
 * Spawns `command` and resolves once it prints a line on stdout that `ready` (the parser that sits beside
 * the line's format: parseListening, parseLabReady, …) reads as its ready line.
 */
export function startProcess<T>(
  command: string,
  args: string[],
  ready: (line: string) => T | undefined,
  env: Record<string, string> = {},
): Promise<Started<T>> {
  const child = track(spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] }));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} did not start within 15 s`)), 15_000);
    const seen: string[] = [];
    let started = false;
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (started) return;
      seen.push(line);
      const parsed = ready(line);
      if (parsed !== undefined) {
        started = true;
        clearTimeout(timer);
        resolve({ child, ready: parsed });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited (${code}) before it was ready:\n${seen.join('\n')}`));
    });
  });
}

export { cpuMs, peakRssMiB, rssMiB } from '../src/common/proc.js';

/**
 * `out/lab up` on ports of its own (every one picked free) and the pod network given, as several labs can
 * run on one machine; `extra` says which clients and how many pods. Resolves with its ready line.
 */
export function startLabUp(podCidr: string, extra: string[]): Promise<Started<LabReady>> {
  const ports = ['--api-port', '--dashboard-port', '--http-node-port', '--grpc-node-port', '--mesh-port'];
  return startProcess(
    fileURLToPath(new URL('../out/lab', import.meta.url)),
    ['up', ...ports.flatMap((flag) => [flag, '0']), '--pod-cidr', podCidr, ...extra],
    parseLabReady,
  );
}
