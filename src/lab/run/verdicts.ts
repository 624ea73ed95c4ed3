// The run checks itself: from what the clients saw in each phase and what each was expected to show,
// one verdict per client after the scale-up and one for the scale-down. Pure: tallies in, lines out.
import { clientLabel, type ClientTally, type PhaseTally } from './view.js';

export interface Verdict {
  ok: boolean;
  /** "✓ client-grpc (L4): stuck on 10.1.0.8 (100 %), as in the post" */
  line: string;
  /** For a ✗: what was expected instead, and which pods it missed; lines of their own, to keep lines short. */
  notes: string[];
}

export interface Verdicts {
  /** The replicas of the phase each part judged, for its heading; undefined when the run has no such phase. */
  scaledUp: { replicas: number | undefined; verdicts: Verdict[] };
  scaledDown: { replicas: number | undefined; verdict: Verdict };
  ok: boolean;
}

/** The post's phases, which the verdicts judge: a scenario with neither is shown, not judged. */
export const JUDGED_PHASES = ['scaled up', 'scaled down'] as const;

/** Whether a run of these phases can be judged against the post: it counts at least one of its phases. */
export const judgeable = (phaseNames: readonly string[]) => JUDGED_PHASES.some((name) => phaseNames.includes(name));

const verdict = (ok: boolean, text: string, notes: string[] = []): Verdict => ({
  ok,
  line: `${ok ? '✓' : '✗'} ${text}`,
  notes,
});

/** "10.1.0.11, 10.1.0.12", or "10.1.0.9, 10.1.0.10 and 2 more": a list that fits a line. */
const shortList = (ips: string[]) =>
  ips.length <= 2 ? ips.join(', ') : `${ips.slice(0, 2).join(', ')} and ${ips.length - 2} more`;

const EXPECTED: Record<ClientTally['expect']['sees'], string> = {
  spread: 'spread over the pods',
  stuck: 'stuck on one pod',
  'never-new': 'no call to an added pod',
  'reaches-new': 'calls to an added pod',
  'every-pod': 'every pod',
  'cheapest-pods': 'calls to added pods',
};

/** What one client saw after the scale-up, against what it was expected to see. */
function judge(client: ClientTally, phase: PhaseTally): Verdict {
  const label = clientLabel(client);
  const expected = `expected ${EXPECTED[client.expect.sees]}, as ${client.expect.as}`;
  const all = Object.values(client.counts).reduce((a, b) => a + b, 0);
  if (all === 0) return verdict(false, `${label}: no replies at all`, [expected]);
  const ranked = Object.entries(client.counts).sort((a, b) => b[1] - a[1]);
  const [topIp, topCount] = ranked[0] as [string, number];
  const missed = phase.pods.filter((ip) => !(ip in client.counts));
  const saw =
    ranked.length === 1
      ? `stuck on ${topIp} (${Math.round((topCount / all) * 100)} %)`
      : `spread over ${ranked.length} of ${phase.replicas} pods`;
  const added = Object.keys(client.firstCallMs ?? {});
  const reachedAdded = added.filter((ip) => (client.counts[ip] ?? 0) > 0).length;
  const ok = {
    spread: ranked.length > 1,
    stuck: ranked.length === 1,
    'never-new': reachedAdded === 0,
    'reaches-new': reachedAdded > 0,
    'every-pod': missed.length === 0 && ranked.length >= phase.replicas,
    'cheapest-pods': reachedAdded > 0,
  }[client.expect.sees];
  if (ok) return verdict(true, `${label}: ${saw}, as ${client.expect.as}`);
  const notes = [expected];
  if (client.expect.sees === 'every-pod' && missed.length > 0) notes.push(`no reply from ${shortList(missed)}`);
  return verdict(false, `${label}: ${saw}`, notes);
}

export function verdicts(phases: readonly PhaseTally[]): Verdicts {
  const up = phases.find((phase) => phase.name === 'scaled up');
  const down = phases.find((phase) => phase.name === 'scaled down');
  const scaledUp = up
    ? up.clients.map((client) => judge(client, up))
    : [verdict(false, 'the run ended before the scale-up was counted')];
  const failed = down?.clients.filter((client) => client.errors > 0) ?? [];
  const lost = failed.reduce((sum, client) => sum + client.errors, 0);
  const scaledDown = !down
    ? verdict(false, 'the run ended before the scale-down was counted')
    : failed.length === 0
      ? verdict(true, 'no client lost a call')
      : verdict(
          false,
          `${lost} call${lost === 1 ? '' : 's'} failed`,
          failed.map((client) => `${clientLabel(client)}: ${client.errors}`),
        );
  return {
    scaledUp: { replicas: up?.replicas, verdicts: scaledUp },
    scaledDown: { replicas: down?.replicas, verdict: scaledDown },
    ok: scaledUp.every((v) => v.ok) && scaledDown.ok,
  };
}
