// The clients: the real out/client-http and out/client-grpc processes, unchanged. The lab reads what
// they print ("#N: <ip>" or "Error: …") and hands each reply to whoever listens.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { parseReplyLine } from '../../common/output.js';

export type Protocol = 'http' | 'grpc';
/**
 * Where a pod is picked for the client's calls: per connection, by the Service (L4), or per request,
 * at L7 (by the mesh proxy beside it, or by the client's own balancer).
 */
export type Path = 'l4' | 'l7';

export interface ClientSpec {
  name: string;
  protocol: Protocol;
  path: Path;
  /** out/client-http or out/client-grpc */
  bin: string;
  target: string;
  /** more arguments for the client (--lb round_robin) */
  args?: string[];
  /** added to the lab's environment (KUBECONFIG for a k8s:/// client) */
  env?: Record<string, string>;
}

/**
 * What a client should show once the Deployment has scaled up: its calls `spread` over more than one
 * pod, `stuck` on one pod, or reaching `every-pod`. `as` says who expects it, in the verdict's words
 * ("as in the post").
 */
export interface Expectation {
  sees: 'spread' | 'stuck' | 'every-pod';
  as: string;
}

/** A client the default run checks: how the report names its way to the pods, and what it should show. */
export interface CheckedClient extends ClientSpec {
  /** Shown beside the name: client-grpc (mesh). */
  via: string;
  expect: Expectation;
}

/** "client-grpc (mesh)": how tables and verdicts name a client. */
export const clientLabel = (client: Pick<CheckedClient, 'name' | 'via'>) => `${client.name} (${client.via})`;

interface WorkloadEvents {
  reply: [ip: string];
  failure: [message: string];
}

export class Workload<Spec extends ClientSpec = ClientSpec> extends EventEmitter<WorkloadEvents> {
  readonly #child: ChildProcess;
  readonly exited: Promise<void>;

  constructor(
    readonly spec: Spec,
    intervalMs: number,
  ) {
    super();
    this.#child = spawn(
      process.execPath,
      [spec.bin, spec.target, '--interval', String(intervalMs), '--exit-on-stdin-close', ...(spec.args ?? [])],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, ...spec.env },
      },
    );
    this.exited = new Promise((resolve) => this.#child.on('exit', () => resolve()));
    let rest = '';
    this.#child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        const reply = parseReplyLine(line);
        if (reply && 'ip' in reply) this.emit('reply', reply.ip);
        else if (reply) this.emit('failure', reply.error);
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
