// `out/lab up`'s live view: the pods, and per pod what each balancer did with it. For the Service (L4)
// both the connections open now and those opened since the lab started: a gRPC client's one long-lived
// connection sits on one pod however many were opened since, and only "open" shows where. For the mesh
// (L7), the requests it sent each pod.
import type { Cluster } from '../cluster.js';

const columns = ['pod', 'state', 'HTTP conns', 'gRPC conns', 'mesh requests'] as const;
const widths = [16, 13, 16, 16, 15];
const row = (cells: readonly string[]) =>
  cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('');

export class LiveView {
  #timer: NodeJS.Timeout | undefined;
  readonly #tty = Boolean(process.stdout.isTTY);
  readonly #events: string[] = [];

  #header = '';

  constructor(private readonly cluster: Cluster) {
    cluster.deployment.on('event', (message) => {
      const line = `${new Date().toLocaleTimeString()}  ${message}`;
      if (!this.#tty) process.stdout.write(`${line}\n`);
      this.#events.push(line);
      if (this.#events.length > 8) this.#events.shift();
    });
  }

  start(header: string, periodMs = 1000): void {
    this.#header = header;
    this.#timer = setInterval(() => this.draw(), this.#tty ? periodMs : periodMs * 5);
    this.draw();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  draw(): void {
    const { deployment, http, grpc, mesh } = this.cluster;
    const conns = (proxy: typeof http, ip: string) => `${proxy.open.get(ip) ?? 0} / ${proxy.connections.get(ip) ?? 0}`;
    const rows = deployment.allPods.map((pod) => {
      const state = pod.phase === 'Running' ? (pod.ready ? 'Ready' : 'NotReady') : pod.phase;
      return [pod.ip, state, conns(http, pod.ip), conns(grpc, pod.ip), String(mesh.requests.get(pod.ip) ?? 0)];
    });
    const ready = deployment.endpoints.list().length;
    const table = [
      `replicas ${deployment.replicas}, ready ${ready}    ${new Date().toLocaleTimeString()}`,
      '',
      row(columns),
      row(['', '', 'open / opened', 'open / opened', 'sent']),
      row(['', '', '(Service, L4)', '(Service, L4)', '(L7)']),
      ...rows.map(row),
    ];
    if (this.#tty)
      process.stdout.write(`\x1b[H\x1b[J${this.#header}\n\n${table.join('\n')}\n\n${this.#events.join('\n')}\n`);
    else {
      const pods = rows.map(([ip, state, h, g, m]) => `${ip} ${state} http ${h} grpc ${g} mesh ${m}`);
      process.stdout.write(`${table[0]} | ${pods.join(' | ')}\n`);
    }
  }
}
