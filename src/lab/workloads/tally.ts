// What the clients saw, phase by phase: replies per pod IP and failed calls. Observers only read.
import type { Path, Protocol, Workload } from './workload.js';

export interface ClientTally {
  name: string;
  protocol: Protocol;
  path: Path;
  counts: Record<string, number>;
  errors: number;
}

export interface PhaseTally {
  name: string;
  replicas: number;
  seconds: number;
  clients: ClientTally[];
}

export class Tally {
  readonly phases: PhaseTally[] = [];
  #current: PhaseTally | undefined;

  constructor(readonly workloads: Workload[]) {
    for (const workload of workloads) {
      workload.on('reply', (ip) => {
        const client = this.#clientOf(workload);
        if (client) client.counts[ip] = (client.counts[ip] ?? 0) + 1;
      });
      workload.on('failure', () => {
        const client = this.#clientOf(workload);
        if (client) client.errors += 1;
      });
    }
  }

  begin(name: string, replicas: number, seconds: number): PhaseTally {
    this.#current = {
      name,
      replicas,
      seconds,
      clients: this.workloads.map(({ spec }) => ({ name: spec.name, protocol: spec.protocol, path: spec.path, counts: {}, errors: 0 })),
    };
    this.phases.push(this.#current);
    return this.#current;
  }

  end(): void {
    this.#current = undefined;
  }

  #clientOf(workload: Workload): ClientTally | undefined {
    return this.#current?.clients[this.workloads.indexOf(workload)];
  }
}
