// `out/lab up`'s live view: the pods, and per pod what each balancer did with it. For the Service (L4)
// both the connections open now and those opened since the lab started: a gRPC client's one long-lived
// connection sits on one pod however many were opened since, and only "open" shows where. For the mesh
// (L7), the requests it sent each pod.
import { compareIps } from '../../common/ip.js';
import type { LabView } from '../dashboard/lab-view.js';
import type { PodWatch } from '../experiment/pod-watch.js';
import { podEventText } from '../experiment/pod-watch.js';
import { specOf } from '../controllers/objects.js';

const columns = ['pod', 'state', 'HTTP conns', 'gRPC conns', 'mesh requests'] as const;
const widths = [16, 13, 16, 16, 15];
const row = (cells: readonly string[]) =>
  cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('');

export class LiveView {
  #timer: NodeJS.Timeout | undefined;
  readonly #tty = Boolean(process.stdout.isTTY);
  readonly #events: string[] = [];
  #header = '';

  constructor(
    private readonly lab: LabView,
    private readonly pods: PodWatch,
  ) {
    pods.on('pod', (event) => {
      const text = podEventText(event);
      if (!text) return;
      const line = `${new Date().toLocaleTimeString()}  ${text}`;
      if (!this.#tty) process.stdout.write(`${line}\n`);
      this.#events.push(line);
      if (this.#events.length > 8) this.#events.shift();
    });
  }

  /** A line about the lab that is not a pod's (the mesh setting a pod aside, say). */
  note(text: string): void {
    const line = `${new Date().toLocaleTimeString()}  ${text}`;
    if (!this.#tty) process.stdout.write(`${line}\n`);
    this.#events.push(line);
    if (this.#events.length > 8) this.#events.shift();
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
    const { http, grpc, meshRequests, store, namespace, deployment, endpoints } = this.lab;
    const conns = (proxy: typeof http, ip: string) =>
      `${proxy?.open.get(ip) ?? 0} / ${proxy?.connections.get(ip) ?? 0}`;
    const rows = [...this.pods.pods.values()]
      .filter((pod) => pod.ip !== '')
      .sort((a, b) => compareIps(a.ip, b.ip))
      .map((pod) => {
        const state = pod.terminating ? 'Terminating' : pod.ready ? 'Ready' : 'NotReady';
        return [pod.ip, state, conns(http, pod.ip), conns(grpc, pod.ip), String(meshRequests.get(pod.ip) ?? 0)];
      });
    const object = store.get('deployments', namespace, deployment);
    const replicas = object ? (specOf<{ replicas?: number }>(object).replicas ?? 1) : 0;
    const table = [
      `replicas ${replicas}, ready ${endpoints.list().length}    ${new Date().toLocaleTimeString()}`,
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
