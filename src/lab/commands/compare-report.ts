// `lab compare`'s report: one row per strategy on the terminal, each figure a team can decide on, and
// below it what each row's ✓ or ✗ is measured against, and why a figure is missing; the same as JSON.
import type { Recording, StrategyResult } from '../compare/summary.js';
import type { CompareOptions } from './compare.js';

const fixed = (value: number | null | undefined, digits: number) =>
  value === null || value === undefined ? '—' : value.toFixed(digits);

const COLUMNS = ['strategy', '', 'pods', 'Jain', 'first call ms', 'failed', 'added ms', 'CPU ms', 'RSS MiB'];

export function compareTable(
  results: StrategyResult[],
  options: Pick<CompareOptions, 'phaseSeconds' | 'latencyRate' | 'latencyRounds' | 'connectionAgeMs'>,
): string {
  const rows = results.map((r) => [
    r.name,
    r.ok === null ? '–' : r.ok ? '✓' : '✗',
    r.podsReached === null ? '—' : `${r.podsReached}/5`,
    fixed(r.jain, 2),
    r.firstCallMs ? `${r.firstCallMs.median} / ${r.firstCallMs.max}` : '—',
    r.failed ? `${r.failed.kill} / ${r.failed.scaleDown}` : '—',
    r.addedMs ? `${signed(r.addedMs.p50)} / ${signed(r.addedMs.p99)}` : '—',
    fixed(r.cpuMs, 0),
    fixed(r.rssMiB, 0),
  ]);
  const table = [COLUMNS, ...rows];
  const widths = COLUMNS.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => (i < 2 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const notes = results.flatMap((r) => [
    `  ${r.ok === null ? '–' : r.ok ? '✓' : '✗'} ${r.name}: ${r.how}`,
    `      expected: ${r.expected}`,
    ...r.notes.map((note) => `      ${note}`),
  ]);
  const measured = results.filter((r) => r.ok !== null);
  const failing = measured.filter((r) => !r.ok).map((r) => r.name);
  return [
    line(COLUMNS),
    ...rows.map(line),
    '',
    `pods: pods that answered after the scale-up to 5 (${options.phaseSeconds} s, counted from the rollout's end)`,
    'Jain: fairness over those pods (1 = even, 0.2 = all on one of 5)',
    "first call ms: from an added pod's Ready to the client's first call to it, median / max",
    'failed: calls lost after the SIGKILL / while scaling down',
    `added ms: p50 / p99 over calling a pod directly, at ${options.latencyRate} calls/s (median of ${options.latencyRounds} rounds)`,
    "CPU ms, RSS MiB: the client's process over the run (+ nginx for edge)",
    `+age: servers that send GOAWAY after ${options.connectionAgeMs} ms`,
    '',
    ...notes,
    '',
    failing.length === 0
      ? `Every strategy measured showed what it is expected to (${measured.length} of ${results.length}).`
      : `Not as expected: ${failing.join(', ')} (see the ✗ lines).`,
  ].join('\n');
}

const signed = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(2)}`;

export function compareJson(
  results: StrategyResult[],
  recording: Recording,
  options: Pick<
    CompareOptions,
    'phaseSeconds' | 'interval' | 'connectionAgeMs' | 'latencyRate' | 'latencySeconds' | 'latencyRounds'
  >,
) {
  return {
    settings: {
      phaseSeconds: options.phaseSeconds,
      intervalMs: options.interval,
      connectionAgeMs: options.connectionAgeMs,
      latency: { rate: options.latencyRate, seconds: options.latencySeconds, rounds: options.latencyRounds },
    },
    phases: recording.phases,
    events: recording.events,
    directMs: recording.direct ?? null,
    strategies: results,
  };
}
