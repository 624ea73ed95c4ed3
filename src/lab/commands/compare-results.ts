// What a `lab compare` run prints and writes, whether it ran in the lab or on a cluster: the tables its
// scenario gives figures for (the scale-up's, the rollout's, the bad pod's), the JSON and the page; and
// its exit code: 0 when every strategy measured showed what it is expected to, 1 when one did not.
import { writeFileSync } from 'node:fs';
import { errorText } from '../../common/cli.js';
import { comparePage, type PageRow } from '../compare/html.js';
import { addedText } from '../compare/latency.js';
import { compareJson, compareTable, faultTable, rolloutTable, type ReportSettings } from '../compare/report.js';
import { faultOf, summarizeFaults, type FaultResult } from '../compare/faults.js';
import { summarizeRollout, type RolloutResult } from '../compare/rollout.js';
import { phaseWith, summarize, type AddedLatency, type StrategyResult } from '../compare/summary.js';
import type { ClientEntry } from '../experiment/clients.js';
import type { Recording } from '../experiment/recording.js';

/** client-grpc's own default deadline, when neither the scenario nor --deadline-ms sets one. */
export const DEFAULT_DEADLINE_MS = 5000;

export function printResults(
  recording: Recording,
  entries: readonly ClientEntry[],
  added: ReadonlyMap<string, AddedLatency | { unavailable: string }>,
  settings: ReportSettings,
  files: { json: string | undefined; html: string | undefined },
): number {
  const results = summarize(recording, entries, added, settings.cluster !== undefined);
  const rollout = summarizeRollout(recording, entries);
  const faults = summarizeFaults(recording, entries, settings.deadlineMs);
  const fault = faultOf(recording);
  // The tables the scenario gives figures for: the scale-up's, the rollout's, the bad pod's.
  const sections: string[] = [];
  if (phaseWith(recording, 'scale-up')) sections.push(compareTable(results, settings));
  if (rollout) sections.push(rolloutTable(rollout));
  if (faults && fault) sections.push(faultTable(faults, fault.kind, settings));
  console.log(sections.length > 0 ? sections.join('\n\n') : compareTable(results, settings));
  try {
    const json = compareJson(results, recording, settings, {
      ...(rollout && { rollout }),
      ...(faults && fault && { faults: { kind: fault.kind, results: faults } }),
    });
    if (files.json) writeFileSync(files.json, `${JSON.stringify(json, null, 2)}\n`);
    if (files.html) writeFileSync(files.html, page(recording, results, rollout, faults));
  } catch (error) {
    console.error(`lab compare: cannot write the report: ${errorText(error)}`);
    return 1;
  }
  const judged = [...(phaseWith(recording, 'scale-up') ? results : []), ...(rollout ?? []), ...(faults ?? [])];
  return judged.every((r) => r.ok !== false) ? 0 : 1;
}

/** The page: the table of the scenario's main figures, and a chart per strategy. */
function page(
  recording: Recording,
  results: StrategyResult[],
  rollout: RolloutResult[] | undefined,
  faults: FaultResult[] | undefined,
): string {
  if (faults) {
    const header = ['strategy', 'OK within deadline %', 'p50 ms', 'p99 ms', 'p99.9 ms', 'to bad pod %', 'failed'];
    const rows = faults.map((r) => ({
      name: r.name,
      ok: r.ok,
      how: r.how,
      notes: r.notes,
      cells: [
        r.success === null ? '—' : (r.success * 100).toFixed(1),
        String(r.p50 ?? '—'),
        String(r.p99 ?? '—'),
        String(r.p999 ?? '—'),
        r.badShare === null ? '—' : (r.badShare * 100).toFixed(1),
        String(r.failed ?? '—'),
      ],
    }));
    return comparePage(header, rows, recording);
  }
  if (rollout) {
    const header = ['strategy', 'failed during', 'pods after', 'Jain after', 'even after s', 'Jain later'];
    const rows = rollout.map((r) => ({
      name: r.name,
      ok: r.ok,
      how: r.how,
      notes: r.notes,
      cells: [
        String(r.failedDuring ?? '—'),
        r.podsReached === null ? '—' : `${r.podsReached}/${r.pods}`,
        String(r.jainAfter ?? '—'),
        r.evenAfterMs === null ? 'never' : (r.evenAfterMs / 1000).toFixed(1),
        String(r.jainLater ?? '—'),
      ],
    }));
    return comparePage(header, rows, recording);
  }
  return comparePage(PAGE_COLUMNS, results.map(pageRow), recording);
}

const PAGE_COLUMNS = [
  'strategy',
  'pods',
  'Jain',
  'first call ms',
  'failed kill / down',
  'added p50 ms',
  'added p99 ms',
  'CPU ms',
  'RSS MiB',
];

function pageRow(r: StrategyResult): PageRow {
  return {
    name: r.name,
    ok: r.ok,
    how: r.how,
    notes: r.notes,
    cells: [
      r.podsReached === null ? '—' : `${r.podsReached}/${r.pods}`,
      r.jain?.toFixed(2) ?? '—',
      r.firstCallMs ? `${r.firstCallMs.median} / ${r.firstCallMs.max}` : '—',
      r.failed ? `${r.failed.kill} / ${r.failed.scaleDown}` : '—',
      r.addedMs ? addedText(r.addedMs.p50, r.addedMs.p50Range) : '—',
      r.addedMs ? addedText(r.addedMs.p99, r.addedMs.p99Range) : '—',
      String(r.cpuMs ?? '—'),
      String(r.rssMiB ?? '—'),
    ],
  };
}
