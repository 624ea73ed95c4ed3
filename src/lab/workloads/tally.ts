// What the clients saw, phase by phase: replies per pod IP and failed calls, and after a scale-up how
// soon each client's first call reached each new pod. Observers only read.
import type { CheckedClient, Workload } from './workload.js';

/** The default run's phases, by what they are. */
export type PhaseName = 'before scaling' | 'scaled up' | 'scaled down';

export interface ClientTally extends Pick<CheckedClient, 'name' | 'via' | 'protocol' | 'path' | 'expect'> {
  counts: Record<string, number>;
  errors: number;
  /**
   * L7 clients, in a phase that began with a rollout: for each pod that turned ready during it, the
   * ms from its Ready to the client's first reply from it (null: none before the phase ended).
   */
  firstCallMs?: Record<string, number | null>;
}

export interface PhaseTally {
  name: PhaseName;
  replicas: number;
  seconds: number;
  /** The ready pods when counting began. */
  pods: string[];
  /** For a scale-up: ms from the scale command until every new pod was ready. Counting began then. */
  rolloutMs?: number;
  clients: ClientTally[];
}

export interface PhaseStart {
  pods: string[];
  /** When the phase's scale-up was commanded (performance.now()) and how long its rollout took. */
  rollout?: { startedAt: number; ms: number };
}

export class Tally {
  readonly phases: PhaseTally[] = [];
  #current: { phase: PhaseTally; start: PhaseStart } | undefined;
  /** When each pod was first seen ready, and when each client first got a reply from each pod. */
  readonly #readyAt = new Map<string, number>();
  readonly #firstReplyAt: Map<string, number>[];

  constructor(
    readonly workloads: Workload<CheckedClient>[],
    readyPods: string[],
  ) {
    this.podsReady(readyPods);
    this.#firstReplyAt = workloads.map(() => new Map());
    for (const [index, workload] of workloads.entries()) {
      const firstReplies = this.#firstReplyAt[index] as Map<string, number>;
      workload.on('reply', (ip) => {
        if (!firstReplies.has(ip)) firstReplies.set(ip, performance.now());
        const client = this.#current?.phase.clients[index];
        if (client) client.counts[ip] = (client.counts[ip] ?? 0) + 1;
      });
      workload.on('failure', () => {
        const client = this.#current?.phase.clients[index];
        if (client) client.errors += 1;
      });
    }
  }

  /** The pods ready now (the endpoints); the first time a pod is in the list is when it turned ready. */
  podsReady(ips: string[]): void {
    const now = performance.now();
    for (const ip of ips) if (!this.#readyAt.has(ip)) this.#readyAt.set(ip, now);
  }

  begin(name: PhaseName, replicas: number, seconds: number, start: PhaseStart): PhaseTally {
    const phase: PhaseTally = {
      name,
      replicas,
      seconds,
      pods: start.pods,
      ...(start.rollout ? { rolloutMs: Math.round(start.rollout.ms) } : {}),
      clients: this.workloads.map(({ spec: { name, via, protocol, path, expect } }) => ({
        name,
        via,
        protocol,
        path,
        expect,
        counts: {},
        errors: 0,
      })),
    };
    this.#current = { phase, start };
    this.phases.push(phase);
    return phase;
  }

  end(): void {
    const { phase, start } = this.#current ?? {};
    this.#current = undefined;
    if (!phase || !start?.rollout) return;
    const { startedAt } = start.rollout;
    const newPods = [...this.#readyAt].filter(([, at]) => at >= startedAt);
    for (const [index, client] of phase.clients.entries()) {
      if (client.path !== 'l7') continue;
      const firstReplies = this.#firstReplyAt[index] as Map<string, number>;
      client.firstCallMs = Object.fromEntries(
        newPods.map(([ip, readyAt]) => {
          const first = firstReplies.get(ip);
          return [ip, first === undefined ? null : Math.round(first - readyAt)];
        }),
      );
    }
  }
}
