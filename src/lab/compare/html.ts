// `lab compare --html FILE`: one self-contained page (no script, no network) with the table and, per
// strategy, a chart of its calls over time — a stacked bar per second, one colour per pod, failed calls as
// black ticks — with the scenario's steps marked, the time a pod hung and the bad pods' calls shaded.
import { compareIps } from '../../common/ip.js';
import { bins, isOk } from '../experiment/analysis.js';
import type { ClientRecord, Recording } from '../experiment/recording.js';

const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#59a14f',
  '#e15759',
  '#76b7b2',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];
const BAD = '#222';
const WIDTH = 880;
const HEIGHT = 150;
const LEFT = 36;
const BOTTOM = 20;
const TOP = 14;

const escape = (text: string) =>
  text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);

export interface PageRow {
  name: string;
  ok: boolean | null;
  how: string;
  notes: string[];
  /** the table's cells after the mark and the name */
  cells: string[];
}

const mark = (ok: boolean | null) => (ok === null ? '–' : ok ? '✓' : '✗');

/** Short labels for the steps worth marking on a chart. */
function markers(recording: Recording): Array<{ t: number; label: string }> {
  return recording.steps.flatMap((step) => {
    switch (step.action) {
      case 'scale':
        return [{ t: step.from, label: `→ ${step.replicas}` }];
      case 'wait':
        return step.to - step.from > 200 ? [{ t: step.to, label: 'ready' }] : [];
      case 'kill':
        return [{ t: step.from, label: 'kill' }];
      case 'delete':
        return [{ t: step.from, label: 'delete' }];
      case 'rollout':
      case 'set-env':
        return [{ t: step.from, label: 'rollout' }];
      case 'fault':
        return [{ t: step.from, label: step.text.includes('go away') ? 'fault off' : 'fault' }];
      case 'stop':
        return [{ t: step.from, label: 'hang' }];
      case 'continue':
        return [{ t: step.from, label: 'go on' }];
      default:
        return [];
    }
  });
}

function chart(
  row: PageRow,
  client: ClientRecord,
  recording: Recording,
  colours: Map<string, string>,
  badIps: Set<string>,
): string {
  const end = Math.max(1000, ...recording.phases.map((p) => p.to), ...recording.steps.map((s) => s.to));
  const seconds = Math.ceil(end / 1000);
  const perSecond = bins(client.calls, { from: 0, to: seconds * 1000 }, 1000);
  const peak = Math.max(
    1,
    ...perSecond.map((bin) => Object.values(bin.counts).reduce((a, b) => a + b, 0)),
    ...perSecond.map((b) => b.failures),
  );
  const plotW = WIDTH - LEFT - 8;
  const plotH = HEIGHT - TOP - BOTTOM;
  const x = (s: number) => LEFT + (s / seconds) * plotW;
  const y = (n: number) => TOP + plotH - (n / peak) * plotH;
  const barW = Math.max(1, plotW / seconds - 1);
  const parts: string[] = [];
  // Hung pods, shaded for the time they hung.
  for (const pod of recording.pods) {
    for (const { from, to } of pod.stopped) {
      parts.push(
        `<rect x="${x(from / 1000).toFixed(1)}" y="${TOP}" width="${(x((to ?? end) / 1000) - x(from / 1000)).toFixed(1)}" height="${plotH}" fill="#f3d6d6"><title>${escape(pod.ip)} hung</title></rect>`,
      );
    }
  }
  perSecond.forEach((bin, s) => {
    let stacked = 0;
    for (const [ip, n] of Object.entries(bin.counts).sort(([a], [b]) => compareIps(a, b))) {
      const fill = badIps.has(ip) ? BAD : (colours.get(ip) ?? '#999');
      parts.push(
        `<rect x="${x(s).toFixed(1)}" y="${y(stacked + n).toFixed(1)}" width="${barW.toFixed(1)}" height="${((n / peak) * plotH).toFixed(1)}" fill="${fill}"><title>${ip}${badIps.has(ip) ? ' (the bad pod)' : ''}: ${n} calls in second ${s}</title></rect>`,
      );
      stacked += n;
    }
    if (bin.failures > 0) {
      parts.push(
        `<rect x="${x(s).toFixed(1)}" y="${(TOP + plotH - 4).toFixed(1)}" width="${barW.toFixed(1)}" height="4" fill="#000"><title>${bin.failures} failed calls in second ${s}</title></rect>`,
      );
    }
  });
  for (const { t, label } of markers(recording)) {
    const ex = x(t / 1000).toFixed(1);
    const anchor = label === 'ready' ? 'start' : label.startsWith('→') ? 'end' : 'middle';
    parts.push(
      `<line x1="${ex}" x2="${ex}" y1="${TOP - 4}" y2="${TOP + plotH}" stroke="#333" stroke-dasharray="3,3"/><text x="${ex}" y="${TOP - 5}" font-size="10" text-anchor="${anchor}">${escape(label)}</text>`,
    );
  }
  parts.push(`<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${TOP + plotH}" y2="${TOP + plotH}" stroke="#333"/>`);
  for (let s = 0; s <= seconds; s += 10) {
    parts.push(`<text x="${x(s).toFixed(1)}" y="${HEIGHT - 5}" font-size="10" text-anchor="middle">${s}s</text>`);
  }
  parts.push(
    `<text x="${LEFT - 4}" y="${TOP + 8}" font-size="10" text-anchor="end">${peak}</text><text x="${LEFT - 4}" y="${TOP + plotH}" font-size="10" text-anchor="end">0</text>`,
  );
  const pods = [...new Set(client.calls.filter(isOk).map(([, , ip]) => ip))].sort(compareIps);
  const legend = pods
    .map(
      (ip) =>
        `<span class="pod"><i style="background:${badIps.has(ip) ? BAD : (colours.get(ip) ?? '#999')}"></i>${ip}${badIps.has(ip) ? ' (bad)' : ''}</span>`,
    )
    .join(' ');
  return `<section><h2>${mark(row.ok)} ${escape(row.name)} <small>${escape(row.how)}</small></h2>
<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="calls per pod per second, ${escape(row.name)}">${parts.join('')}</svg>
<div class="legend">${legend}</div></section>`;
}

export function comparePage(header: string[], rows: PageRow[], recording: Recording): string {
  // One colour per pod, in the order the pods turned ready, per Deployment.
  const colours = new Map<string, string>();
  const byDeployment = new Map<string, typeof recording.pods>();
  for (const pod of recording.pods)
    byDeployment.set(pod.deployment, [...(byDeployment.get(pod.deployment) ?? []), pod]);
  for (const pods of byDeployment.values()) {
    pods
      .filter((pod) => pod.ready.length > 0)
      .sort((a, b) => (a.ready[0] ?? 0) - (b.ready[0] ?? 0))
      .forEach((pod, i) => colours.set(pod.ip, PALETTE[i % PALETTE.length] as string));
  }
  const badIps = new Set(recording.pods.filter((pod) => pod.fault).map((pod) => pod.ip));
  const tableRow = (row: PageRow) =>
    `<tr><td>${mark(row.ok)}</td><td>${escape(row.name)}</td>${row.cells.map((cell) => `<td>${escape(cell)}</td>`).join('')}<td class="notes">${escape(row.notes.join('; '))}</td></tr>`;
  const charts = rows
    .map((row) => {
      const client = recording.clients.find((c) => c.name === row.name);
      return client && !client.unavailable
        ? chart(row, client, recording, colours, badIps)
        : `<section><h2>– ${escape(row.name)}</h2><p>${escape(row.notes.join('; '))}</p></section>`;
    })
    .join('\n');
  const steps = recording.steps.map((step) => escape(step.text)).join(' → ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>grpc-lb: ${escape(recording.scenario.name)}, every strategy side by side</title>
<style>
body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #222; max-width: 920px; }
table { border-collapse: collapse; margin-bottom: 12px; } td, th { padding: 2px 8px; border-bottom: 1px solid #ddd; text-align: right; }
td:nth-child(2), th:nth-child(2), td.notes { text-align: left; } td.notes { font-size: 11px; color: #555; }
h1 { font-size: 18px; } h2 { font-size: 14px; margin: 10px 0 0; } h2 small { font-weight: normal; color: #555; }
.legend { font-size: 11px; } .pod i { display: inline-block; width: 10px; height: 10px; margin: 0 3px 0 8px; vertical-align: -1px; }
</style></head><body>
<h1>${escape(recording.scenario.name)}: every strategy side by side</h1>
<p>${escape(recording.scenario.description)}. Calls per pod per second for each strategy's client, all running at once: ${steps}. Black ticks: failed calls${badIps.size > 0 ? '; black bars: calls to the bad pod' : ''}${recording.pods.some((p) => p.stopped.length > 0) ? '; shaded: a pod hung' : ''}.</p>
<table><tr><th></th>${header.map((h) => `<th>${escape(h)}</th>`).join('')}<th>notes</th></tr>
${rows.map(tableRow).join('\n')}</table>
${charts}
</body></html>
`;
}
