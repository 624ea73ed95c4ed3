// `lab compare --html FILE`: one self-contained page (no script, no network) with the table and, per
// strategy, a chart of its calls per pod over time — a stacked bar per second, one colour per pod —
// with the scale and kill events marked.
import type { Recording, StrategyResult } from '../compare/summary.js';

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
const WIDTH = 880;
const HEIGHT = 150;
const LEFT = 36;
const BOTTOM = 20;
const TOP = 14;

const escape = (text: string) =>
  text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);

function chart(
  result: StrategyResult,
  record: Recording['strategies'][number],
  recording: Recording,
  colours: Map<string, string>,
): string {
  const end = Math.max(...recording.phases.map((p) => p.to), 1000);
  const seconds = Math.ceil(end / 1000);
  const bins: Array<Map<string, number>> = Array.from({ length: seconds }, () => new Map());
  for (const [t, ip] of record.replies) {
    const bin = bins[Math.min(seconds - 1, Math.floor(t / 1000))];
    bin?.set(ip, (bin.get(ip) ?? 0) + 1);
  }
  const failures = Array.from({ length: seconds }, () => 0);
  for (const t of record.failures)
    failures[Math.min(seconds - 1, Math.floor(t / 1000))] =
      (failures[Math.min(seconds - 1, Math.floor(t / 1000))] ?? 0) + 1;
  const peak = Math.max(1, ...bins.map((bin) => [...bin.values()].reduce((a, b) => a + b, 0) + 0), ...failures);
  const plotW = WIDTH - LEFT - 8;
  const plotH = HEIGHT - TOP - BOTTOM;
  const x = (s: number) => LEFT + (s / seconds) * plotW;
  const y = (n: number) => TOP + plotH - (n / peak) * plotH;
  const barW = Math.max(1, plotW / seconds - 1);
  const parts: string[] = [];
  bins.forEach((bin, s) => {
    let stacked = 0;
    for (const [ip, n] of [...bin].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
      parts.push(
        `<rect x="${x(s).toFixed(1)}" y="${y(stacked + n).toFixed(1)}" width="${barW.toFixed(1)}" height="${((n / peak) * plotH).toFixed(1)}" fill="${colours.get(ip) ?? '#999'}"><title>${ip}: ${n} calls in second ${s}</title></rect>`,
      );
      stacked += n;
    }
    if ((failures[s] ?? 0) > 0) {
      parts.push(
        `<rect x="${x(s).toFixed(1)}" y="${(TOP + plotH - 4).toFixed(1)}" width="${barW.toFixed(1)}" height="4" fill="#000"><title>${failures[s]} failed calls in second ${s}</title></rect>`,
      );
    }
  });
  let last = { t: -Infinity, label: '' };
  for (const { t, text } of recording.events.filter((e) => /scaling|SIGKILL|rollout complete/.test(e.text))) {
    const label = /SIGKILL/.test(text)
      ? 'kill'
      : /rollout/.test(text)
        ? 'ready'
        : `→ ${/to (\d+)/.exec(text)?.[1] ?? ''}`;
    if (label === last.label && t - last.t < 1000) continue; // the same event in both Deployments
    last = { t, label };
    const ex = x(t / 1000).toFixed(1);
    // A scale command's label left of its line, the rollout's end right of its own: they come close together.
    const anchor = label === 'ready' ? 'start' : label === 'kill' ? 'middle' : 'end';
    parts.push(
      `<line x1="${ex}" x2="${ex}" y1="${TOP - 4}" y2="${TOP + plotH}" stroke="#333" stroke-dasharray="3,3"/><text x="${ex}" y="${TOP - 5}" font-size="10" text-anchor="${anchor}">${escape(label)}</text>`,
    );
  }
  parts.push(`<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${TOP + plotH}" y2="${TOP + plotH}" stroke="#333"/>`);
  for (let s = 0; s <= seconds; s += 10)
    parts.push(`<text x="${x(s).toFixed(1)}" y="${HEIGHT - 5}" font-size="10" text-anchor="middle">${s}s</text>`);
  parts.push(
    `<text x="${LEFT - 4}" y="${TOP + 8}" font-size="10" text-anchor="end">${peak}</text><text x="${LEFT - 4}" y="${TOP + plotH}" font-size="10" text-anchor="end">0</text>`,
  );
  const pods = [...new Set(record.replies.map(([, ip]) => ip))].sort((a, b) =>
    a.localeCompare(b, 'en', { numeric: true }),
  );
  const legend = pods
    .map((ip) => `<span class="pod"><i style="background:${colours.get(ip) ?? '#999'}"></i>${ip}</span>`)
    .join(' ');
  const mark = result.ok === null ? '–' : result.ok ? '✓' : '✗';
  return `<section><h2>${mark} ${escape(result.name)} <small>${escape(result.how)}</small></h2>
<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="calls per pod per second, ${escape(result.name)}">${parts.join('')}</svg>
<div class="legend">${legend}</div></section>`;
}

export function comparePage(results: StrategyResult[], recording: Recording): string {
  // One colour per pod, in the order the pods turned ready, per Deployment.
  const colours = new Map<string, string>();
  for (const fleet of Object.values(recording.fleets)) {
    Object.entries(fleet.readyAt)
      .sort(([, a], [, b]) => a - b)
      .forEach(([ip], i) => colours.set(ip, PALETTE[i % PALETTE.length] as string));
  }
  const row = (r: StrategyResult) =>
    `<tr><td>${r.ok === null ? '–' : r.ok ? '✓' : '✗'}</td><td>${escape(r.name)}</td><td>${r.podsReached ?? '—'}</td><td>${r.jain?.toFixed(2) ?? '—'}</td>` +
    `<td>${r.firstCallMs ? `${r.firstCallMs.median} / ${r.firstCallMs.max}` : '—'}</td><td>${r.failed ? `${r.failed.kill} / ${r.failed.scaleDown}` : '—'}</td>` +
    `<td>${r.addedMs ? `${r.addedMs.p50.toFixed(2)} / ${r.addedMs.p99.toFixed(2)}` : '—'}</td><td>${r.cpuMs ?? '—'}</td><td>${r.rssMiB ?? '—'}</td>` +
    `<td class="notes">${escape(r.notes.join('; '))}</td></tr>`;
  const charts = results
    .map((result) => {
      const record = recording.strategies.find((s) => s.strategy.name === result.name);
      return record && !record.unavailable
        ? chart(result, record, recording, colours)
        : `<section><h2>– ${escape(result.name)}</h2><p>${escape(result.notes.join('; '))}</p></section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>grpc-lb: every fix for gRPC balancing, side by side</title>
<style>
body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #222; max-width: 920px; }
table { border-collapse: collapse; margin-bottom: 12px; } td, th { padding: 2px 8px; border-bottom: 1px solid #ddd; text-align: right; }
td:nth-child(2), th:nth-child(2), td.notes { text-align: left; } td.notes { font-size: 11px; color: #555; }
h1 { font-size: 18px; } h2 { font-size: 14px; margin: 10px 0 0; } h2 small { font-weight: normal; color: #555; }
.legend { font-size: 11px; } .pod i { display: inline-block; width: 10px; height: 10px; margin: 0 3px 0 8px; vertical-align: -1px; }
</style></head><body>
<h1>Every fix for gRPC balancing, side by side</h1>
<p>Calls per pod per second for each strategy's client, all running at once: 1 replica, scaled to 5, the oldest pod killed, scaled to 2. Black ticks: failed calls.</p>
<table><tr><th></th><th>strategy</th><th>pods</th><th>Jain</th><th>first call ms</th><th>failed kill / down</th><th>added ms p50 / p99</th><th>CPU ms</th><th>RSS MiB</th><th>notes</th></tr>
${results.map(row).join('\n')}</table>
${charts}
</body></html>
`;
}
