// The post's view of a run: per phase, what each client saw from each pod — the tables the post's
// screenshots show — from the recording, with the rollout's length and, for the clients whose calls are
// balanced per request, how soon each pod the scale-up added got its first call.
import { compareIps } from '../../common/ip.js';
import {
  callsIn,
  countsByPod,
  failures,
  firstCalls,
  podsAdded,
  readyPodsAt,
  rolloutBefore,
} from '../experiment/analysis.js';
import type { ClientEntry, Expectation } from '../experiment/clients.js';
import type { Recording } from '../experiment/recording.js';

export interface ClientTally {
  /** the program: client-http or client-grpc */
  name: string;
  /** how its calls reach the pods, beside the name: client-grpc (mesh) */
  tag: string;
  protocol: 'http' | 'grpc';
  /** per connection (the Service, L4) or per request (L7: a proxy, or the client itself) */
  path: 'l4' | 'l7';
  expect: { sees: Expectation; as: string };
  counts: Record<string, number>;
  errors: number;
  /**
   * L7 clients, in a phase that began with a rollout: for each pod that turned ready during it, the ms
   * from its Ready to the client's first reply from it (null: none before the phase ended).
   */
  firstCallMs?: Record<string, number | null>;
}

export interface PhaseTally {
  name: string;
  replicas: number;
  seconds: number;
  /** the ready pods when counting ended (a scale-down's leaving pods are gone by then) */
  pods: string[];
  /** for a scale-up: ms from the scale command until every new pod was ready; counting began then */
  rolloutMs?: number;
  clients: ClientTally[];
}

/** Who expects what of each of the post's clients, in the verdict's words. */
export const expectationOf = (entry: ClientEntry): ClientTally['expect'] => ({
  sees: entry.expect,
  as: entry.route === 'client' ? 'a client-side balancer should' : 'in the post',
});

export function tallies(recording: Recording, entries: readonly ClientEntry[]): PhaseTally[] {
  let replicas = 0;
  return recording.phases.map((phase) => {
    for (const step of recording.steps)
      if (step.index < phase.step && step.replicas !== undefined) replicas = step.replicas;
    const rollout = rolloutBefore(recording, phase);
    const grew = rollout !== undefined && recording.steps.some((s) => s.from === rollout.from && s.action === 'scale');
    const added = rollout ? podsAdded(recording, { from: rollout.from, to: phase.to }, recording.deployments) : [];
    return {
      name: phase.name,
      replicas,
      seconds: Math.round((phase.to - phase.from) / 1000),
      // The pods the phase ends with: a scale-down's leaving pods are out of it.
      pods: readyPodsAt(recording, phase.to - 1, recording.deployments),
      ...(grew && rollout && { rolloutMs: Math.round(rollout.to - rollout.from) }),
      clients: entries.flatMap((entry) => {
        const record = recording.clients.find((client) => client.name === entry.name);
        if (!record || record.unavailable) return [];
        const calls = callsIn(record, phase);
        const l7 = entry.route !== 'service';
        const counts = countsByPod(calls);
        return [
          {
            name: entry.program,
            tag: entry.tag,
            protocol: entry.program === 'client-http' ? 'http' : 'grpc',
            path: l7 ? 'l7' : 'l4',
            expect: expectationOf(entry),
            counts: Object.fromEntries(Object.entries(counts).sort(([a], [b]) => compareIps(a, b))),
            errors: failures(calls),
            ...(grew && l7 && added.length > 0 && { firstCallMs: firstCalls(record, added, phase.to) }),
          } satisfies ClientTally,
        ];
      }),
    };
  });
}

/** "client-grpc (mesh)": how tables and verdicts name a client. */
export const clientLabel = (client: Pick<ClientTally, 'name' | 'tag'>): string => `${client.name} (${client.tag})`;
