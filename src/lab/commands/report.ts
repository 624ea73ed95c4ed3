// Turns the tally into what the post's screenshots showed: per phase, a table of clients × pods with
// reply counts and shares, and one verdict per client that says whether it saw what the post saw.
import type { ClientTally, PhaseTally } from '../workloads/tally.js';

const MAX_POD_COLUMNS = 5; // keeps a table inside 80 columns
const NAME_WIDTH = 19;
const CELL_WIDTH = 10;

export const pathLabel = (client: Pick<ClientTally, 'name' | 'path'>) =>
  `${client.name} (${client.path === 'l4' ? 'L4' : 'mesh'})`;

const ipOrder = (a: string, b: string) => {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
};

const total = (client: ClientTally) => Object.values(client.counts).reduce((a, b) => a + b, 0);

export function phaseTable(phase: PhaseTally, index: number, of: number): string {
  const ips = [...new Set(phase.clients.flatMap((c) => Object.keys(c.counts)))].sort(ipOrder);
  const shown = ips.length > MAX_POD_COLUMNS ? ips.slice(0, MAX_POD_COLUMNS - 1) : ips;
  const folded = ips.slice(shown.length);
  const columns = [...shown, ...(folded.length > 0 ? [`+${folded.length} more`] : [])];

  const cell = (count: number, all: number) =>
    (count === 0 ? '·' : `${count} ${Math.round((count / all) * 100)}%`).padStart(CELL_WIDTH);
  const lines = [
    `Phase ${index + 1}/${of}: ${phase.name} — ${phase.replicas} replica${phase.replicas === 1 ? '' : 's'}, ${phase.seconds} s`,
    `${'client'.padEnd(NAME_WIDTH)}${columns.map((c) => c.padStart(CELL_WIDTH)).join('')}${'errors'.padStart(8)}`,
  ];
  for (const client of phase.clients) {
    const all = total(client);
    const counts = shown.map((ip) => client.counts[ip] ?? 0);
    if (folded.length > 0) counts.push(folded.reduce((sum, ip) => sum + (client.counts[ip] ?? 0), 0));
    lines.push(`${pathLabel(client).padEnd(NAME_WIDTH)}${counts.map((n) => cell(n, all)).join('')}${String(client.errors).padStart(8)}`);
  }
  return lines.join('\n');
}

export interface Verdict {
  client: string;
  ok: boolean;
  line: string;
}

/**
 * What the post saw after scaling up: HTTP through the Service spreads over the new pods, gRPC
 * through the Service stays on one pod, gRPC in the mesh reaches every pod.
 */
export function verdicts(scaledUp: PhaseTally): Verdict[] {
  return scaledUp.clients.map((client) => {
    const all = total(client);
    const ranked = Object.entries(client.counts).sort((a, b) => b[1] - a[1]);
    const pods = ranked.length;
    const [topIp, topCount] = ranked[0] ?? ['none', 0];
    const label = pathLabel(client);
    const spread = `spread over ${pods} of ${scaledUp.replicas} pods`;
    const verdict = (ok: boolean, text: string) => ({ client: label, ok, line: `${ok ? '✓' : '✗'} ${label}: ${text}` });
    if (all === 0) return verdict(false, 'no replies at all');
    if (client.path === 'l4' && client.protocol === 'grpc') {
      return pods === 1
        ? verdict(true, `stuck on ${topIp} (${Math.round((topCount / all) * 100)} %), as in the post`)
        : verdict(false, `${spread}; the post saw it stuck on one pod`);
    }
    if (client.path === 'l4') {
      return pods > 1 ? verdict(true, `${spread}, as in the post`) : verdict(false, `only ${topIp}; the post saw it spread`);
    }
    return pods >= scaledUp.replicas
      ? verdict(true, `${spread}, as in the post`)
      : verdict(false, `${spread}; the post saw every pod serve it`);
  });
}

/** The report as JSON, in the shape the README documents. */
export function reportJson(phases: PhaseTally[]) {
  return {
    phases: phases.map((phase) => ({
      name: phase.name,
      replicas: phase.replicas,
      seconds: phase.seconds,
      clients: phase.clients.map(({ name, protocol, path, counts, errors }) => ({ name, protocol, path, counts, errors })),
    })),
  };
}
