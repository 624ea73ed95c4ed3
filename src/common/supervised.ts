// A program another one runs and watches: started, read line by line (stdout and stderr), stopped with a
// grace period (SIGTERM, then SIGKILL), and its exit awaited. The lab's pods, its clients and proxies, the
// tests and the benchmarks all run their children through this. With `lifeline`, the child's stdin is a
// pipe that closes when this process dies, however it dies: our programs take that (their hidden
// --exit-on-stdin-close) as a SIGTERM, so that no child outlives the lab.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';

export type Stream = 'stdout' | 'stderr';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SupervisedOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** stdin a pipe held open for the child's whole life (see above); else stdin is ignored */
  lifeline?: boolean;
}

interface SupervisedEvents {
  line: [line: string, stream: Stream];
  exit: [exit: Exit];
}

export class Supervised extends EventEmitter<SupervisedEvents> {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  #exit: Exit | undefined;

  constructor(command: string, args: readonly string[], options: SupervisedOptions = {}) {
    super();
    this.child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: [options.lifeline ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    this.child.on('error', () => undefined); // a failed spawn still ends with 'close', carrying the code
    this.exited = new Promise((resolve) =>
      this.child.once('close', (code, signal) => {
        this.#exit = { code, signal };
        this.emit('exit', this.#exit);
        resolve(this.#exit);
      }),
    );
    for (const stream of ['stdout', 'stderr'] as const) {
      const input = this.child[stream];
      if (input) createInterface({ input, crlfDelay: Infinity }).on('line', (line) => this.emit('line', line, stream));
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The exit, once the child has exited. */
  get exit(): Exit | undefined {
    return this.#exit;
  }

  /** Sends a signal unless the child has exited already. */
  signal(signal: NodeJS.Signals): void {
    if (!this.#exit) this.child.kill(signal);
  }

  /** SIGTERM (or `signal`), then SIGKILL once `graceMs` have passed; resolves with the exit. */
  stop(graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    if (this.#exit) return Promise.resolve(this.#exit);
    this.child.kill(signal);
    const force = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    return this.exited.finally(() => clearTimeout(force));
  }
}

/**
 * A lifeline for a program that has no stdin to watch (nginx, HAProxy): a small shell that waits on a
 * pipe from this process and, once it closes — this process ended, however it ended — sends `signal` to
 * `pid`. Stop it (`.kill()`) once `pid` has been stopped the usual way.
 */
export function lifeline(pid: number, signal: NodeJS.Signals = 'SIGTERM'): ChildProcess {
  const watch = spawn(
    'sh',
    ['-c', `read _; kill -${signal.replace(/^SIG/, '')} "$1" 2>/dev/null`, 'lifeline', String(pid)],
    {
      stdio: ['pipe', 'ignore', 'ignore'],
    },
  );
  watch.on('error', () => undefined); // no sh: no lifeline, as before
  return watch;
}
