// The clients: the real out/client-http and out/client-grpc processes, unchanged. The lab reads what
// they print ("#N: <ip>" or "Error: …") and hands each reply to whoever listens.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';

export type Protocol = 'http' | 'grpc';
/** How the client reaches the pods: through the Service (L4) or through the mesh proxy (L7). */
export type Path = 'l4' | 'l7';

export interface ClientSpec {
  name: string;
  protocol: Protocol;
  path: Path;
  /** out/client-http or out/client-grpc */
  bin: string;
  target: string;
  /** more arguments (--lb round_robin) and environment (a resolver's settings) for the client */
  args?: string[];
  env?: Record<string, string>;
}

interface WorkloadEvents {
  reply: [ip: string];
  failure: [message: string];
}

export class Workload extends EventEmitter<WorkloadEvents> {
  readonly #child: ChildProcess;
  readonly exited: Promise<void>;

  constructor(
    readonly spec: ClientSpec,
    intervalMs: number,
  ) {
    super();
    this.#child = spawn(process.execPath, [spec.bin, spec.target, '--interval', String(intervalMs), '--exit-on-stdin-close', ...(spec.args ?? [])], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...spec.env },
    });
    this.exited = new Promise((resolve) => this.#child.on('exit', () => resolve()));
    let rest = '';
    this.#child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        const reply = /^#\d+: (\S+)$/.exec(line);
        if (reply) this.emit('reply', reply[1] as string);
        else if (line.startsWith('Error: ')) this.emit('failure', line.slice('Error: '.length));
      }
    });
    this.#child.stderr?.resume();
  }

  /** The client's process, for what it costs (CPU time, memory). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  stop(): Promise<void> {
    this.#child.kill('SIGTERM');
    const force = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
    return this.exited.finally(() => clearTimeout(force));
  }
}
