// `out/lab up`'s live view: the pods, and per pod the traffic each balancer sent it since the last
// scale — L4 connections through the Service, L7 requests through the mesh.
import type { Cluster } from '../cluster.js';

type Counter = Map<string, number>;

export class LiveView {
  #since: { http: Counter; grpc: Counter; mesh: Counter };
  #timer: NodeJS.Timeout | undefined;
  readonly #tty = Boolean(process.stdout.isTTY);
  readonly #events: string[] = [];

  #header = '';

  constructor(private readonly cluster: Cluster) {
    this.#since = this.#snapshot();
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

  /** Counting starts again, so the table shows what happened after the scale. */
  reset(): void {
    this.#since = this.#snapshot();
  }

  draw(): void {
    const { deployment, http, grpc, mesh } = this.cluster;
    const delta = (now: Counter, then: Counter, ip: string) => (now.get(ip) ?? 0) - (then.get(ip) ?? 0);
    const rows = deployment.allPods.map((pod) => {
      const state = pod.phase === 'Running' ? (pod.ready ? 'Ready' : 'NotReady') : pod.phase;
      return `${pod.ip.padEnd(12)}${state.padEnd(13)}${String(delta(http.connections, this.#since.http, pod.ip)).padStart(14)}${String(
        delta(grpc.connections, this.#since.grpc, pod.ip),
      ).padStart(14)}${String(delta(mesh.requests, this.#since.mesh, pod.ip)).padStart(16)}`;
    });
    const ready = deployment.endpoints.list().length;
    const table = [
      `replicas ${deployment.replicas}, ready ${ready}    ${new Date().toLocaleTimeString()}`,
      '',
      `${'pod'.padEnd(12)}${'state'.padEnd(13)}${'HTTP conns'.padStart(14)}${'gRPC conns'.padStart(14)}${'mesh requests'.padStart(16)}`,
      `${''.padEnd(25)}${'(Service, L4)'.padStart(14)}${'(Service, L4)'.padStart(14)}${'(L7)'.padStart(16)}`,
      ...rows,
    ];
    if (this.#tty) process.stdout.write(`\x1b[H\x1b[J${this.#header}\n\n${table.join('\n')}\n\n${this.#events.join('\n')}\n`);
    else process.stdout.write(`${table[0]} | ${rows.map((r) => r.replace(/\s+/g, ' ').trim()).join(' | ')}\n`);
  }

  #snapshot() {
    const { http, grpc, mesh } = this.cluster;
    return { http: new Map(http.connections), grpc: new Map(grpc.connections), mesh: new Map(mesh.requests) };
  }
}
