// Turns the tally into what the post's screenshots showed: per phase, a table of pods × clients with
// reply counts and shares; then the verdicts, the rollout's length and how soon new pods got calls.
import { compareIps } from '../../common/ip.js';
import { firstCallFigures } from '../experiment/analysis.js';
import { clientLabel, type ClientTally, type PhaseTally } from './view.js';
import type { Verdict, Verdicts } from './verdicts.js';

const GAP = 2;

const total = (client: ClientTally) => Object.values(client.counts).reduce((a, b) => a + b, 0);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * A phase as a table: a row per pod (the ready ones and any that replied), a column per client with
 * its replies from that pod and their share, and a last row of failed calls. Pods go down the page,
 * so five pods with long IPs and four clients still fit 80 columns.
 */
function phaseTable(phase: PhaseTally, index: number, of: number): string {
  const ips = [...new Set([...phase.pods, ...phase.clients.flatMap((c) => Object.keys(c.counts))])].sort(compareIps);
  const cell = (client: ClientTally, ip: string) => {
    const count = client.counts[ip] ?? 0;
    return count === 0 ? '·' : `${count} ${Math.round((count / total(client)) * 100)}%`;
  };
  const columns = phase.clients.map((client) => ({
    head: [client.name, `(${client.tag})`],
    cells: [...ips.map((ip) => cell(client, ip)), String(client.errors)],
  }));
  const rowNames = [...ips, 'errors'];
  const firstWidth = Math.max('pod'.length, ...rowNames.map((name) => name.length));
  const widths = columns.map(
    ({ head, cells }) => GAP + Math.max(...head.map((h) => h.length), ...cells.map((c) => c.length)),
  );
  const row = (first: string, cells: string[]) =>
    `${first.padEnd(firstWidth)}${cells.map((c, i) => c.padStart(widths[i] as number)).join('')}`;
  return [
    `Phase ${index + 1}/${of}: ${phase.name} — ${plural(phase.replicas, 'replica')}, ${phase.seconds} s${phase.rolloutMs === undefined ? '' : " from the rollout's end"}`,
    row(
      '',
      columns.map(({ head }) => head[0] as string),
    ),
    row(
      'pod',
      columns.map(({ head }) => head[1] as string),
    ),
    ...rowNames.map((name, r) =>
      row(
        name,
        columns.map(({ cells }) => cells[r] as string),
      ),
    ),
  ].join('\n');
}

function firstCallLine(client: ClientTally, firstCallMs: Record<string, number | null>): string {
  const { newPods, reached, medianMs, maxMs } = firstCallFigures(firstCallMs);
  const label = clientLabel(client);
  if (reached === 0) return `${label}: no call to any of the ${plural(newPods, 'new pod')}`;
  const missed = newPods - reached;
  return `${label}: median ${medianMs} ms, max ${maxMs} ms (${plural(newPods, 'new pod')}${missed > 0 ? `, ${missed} got none` : ''})`;
}

const verdictLines = (verdict: Verdict) => [`  ${verdict.line}`, ...verdict.notes.map((note) => `      ${note}`)];

/** What follows the tables: the verdicts after the scale-up and the scale-down, with the figures between. */
function summary(phases: readonly PhaseTally[], result: Verdicts): string {
  const up = phases.find((phase) => phase.name === 'scaled up');
  const rollout = up?.rolloutMs === undefined ? '' : ` (the rollout took ${seconds(up.rolloutMs)})`;
  const lines = [
    `After scaling up${result.scaledUp.replicas === undefined ? '' : ` to ${result.scaledUp.replicas}`}${rollout}:`,
    ...result.scaledUp.verdicts.flatMap(verdictLines),
  ];
  const firstCalls = (up?.clients ?? []).flatMap((client) =>
    client.firstCallMs ? [`  ${firstCallLine(client, client.firstCallMs)}`] : [],
  );
  if (firstCalls.length > 0) lines.push("From a new pod's Ready to its first call:", ...firstCalls);
  lines.push(
    `While scaling down${result.scaledDown.replicas === undefined ? '' : ` to ${result.scaledDown.replicas}`}:`,
    ...verdictLines(result.scaledDown.verdict),
  );
  lines.push(
    '',
    result.ok ? 'The lab saw what the post saw.' : 'The lab did NOT see what the post saw (see the ✗ lines).',
  );
  return lines.join('\n');
}

/** The report: a table per phase, then the verdicts (none for a scenario without the post's phases). */
export const reportText = (phases: readonly PhaseTally[], result: Verdicts | undefined) =>
  `${phases.map((phase, i) => phaseTable(phase, i, phases.length)).join('\n\n')}` +
  (result ? `\n\n${summary(phases, result)}` : '');

/** The report as JSON, in the shape the README documents. */
export function reportJson(phases: readonly PhaseTally[], result: Verdicts | undefined) {
  return {
    ok: result?.ok ?? null,
    phases: phases.map((phase) => ({
      name: phase.name,
      replicas: phase.replicas,
      seconds: phase.seconds,
      ...(phase.rolloutMs === undefined ? {} : { rolloutMs: phase.rolloutMs }),
      pods: [...phase.pods].sort(compareIps),
      clients: phase.clients.map((client) => ({
        name: client.name,
        label: clientLabel(client),
        protocol: client.protocol,
        path: client.path,
        expect: client.expect.sees,
        counts: client.counts,
        errors: client.errors,
        ...(client.firstCallMs === undefined
          ? {}
          : { firstCall: { ...firstCallFigures(client.firstCallMs), pods: client.firstCallMs } }),
      })),
    })),
  };
}
