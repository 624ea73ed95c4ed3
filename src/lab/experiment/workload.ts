// A client the lab runs: the real out/client-grpc or out/client-http process, unchanged, asked for its
// machine-readable output (--output jsonl: one record per call, with who answered, how it ended and how
// long it took). Each call is handed to whoever listens; the process is the client's own, so what it
// costs (CPU, memory) is its own too.
import { parseCall, type CallRecord } from '../../common/output.js';
import { Supervised } from '../../common/supervised.js';
import { EventEmitter } from 'node:events';

export interface WorkloadSpec {
  /** out/client-grpc or out/client-http */
  program: string;
  /** its target first */
  args: readonly string[];
  env: Readonly<Record<string, string>>;
}

interface WorkloadEvents {
  call: [call: CallRecord];
  /** a line the client wrote on stderr: its own error messages */
  stderr: [line: string];
  exit: [code: number | null, signal: NodeJS.Signals | null];
}

/** The last lines a client wrote on stderr, for the lab to say why a client did not answer. */
const KEPT_LINES = 5;

export class Workload extends EventEmitter<WorkloadEvents> {
  readonly #process: Supervised;
  readonly lastErrors: string[] = [];
  calls = 0;
  failures = 0;

  constructor(readonly spec: WorkloadSpec) {
    super();
    this.#process = new Supervised(
      process.execPath,
      [spec.program, ...spec.args, '--output', 'jsonl', '--exit-on-stdin-close'],
      { env: { ...process.env, ...spec.env }, lifeline: true },
    );
    this.#process.on('line', (line, stream) => {
      if (stream === 'stderr') {
        this.lastErrors.push(line);
        if (this.lastErrors.length > KEPT_LINES) this.lastErrors.shift();
        this.emit('stderr', line);
        return;
      }
      const call = parseCall(line);
      if (!call) return;
      this.calls += 1;
      if (call.code !== 'OK') {
        this.failures += 1;
        if (call.error) {
          this.lastErrors.push(call.error);
          if (this.lastErrors.length > KEPT_LINES) this.lastErrors.shift();
        }
      }
      this.emit('call', call);
    });
    this.#process.on('exit', ({ code, signal }) => this.emit('exit', code, signal));
  }

  /** The client's process, for what it costs (CPU time, memory). */
  get pid(): number | undefined {
    return this.#process.pid;
  }

  /** Whether the process has exited (on its own, if nobody stopped it). */
  get exited(): boolean {
    return this.#process.exit !== undefined;
  }

  async stop(): Promise<void> {
    await this.#process.stop(5000);
  }
}
