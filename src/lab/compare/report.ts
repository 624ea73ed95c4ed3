// `lab compare`'s report: one row per strategy on the terminal, each figure a team can decide on, and
// below it what each row's ✓ or ✗ is measured against, and why a figure is missing; the same as JSON.
import type { Recording } from '../experiment/recording.js';
import type { FaultKind, FaultResult } from './faults.js';
import { addedText } from './latency.js';
import { EVEN, type RolloutResult } from './rollout.js';
import type { StrategyResult } from './summary.js';

export interface ReportSettings {
  scenario: string;
  deadlineMs: number;
  intervalMs: number | undefined;
  rate: number | undefined;
  /** the +age servers' max connection age, when the run had them */
  connectionAgeMs: number | undefined;
  latency: { rate: number; seconds: number; rounds: number };
  /** a run on a cluster (lab compare --cluster): its context and namespace; absent: the lab */
  cluster?: { context: string; namespace: string };
}

const fixed = (value: number | null | undefined, digits: number) =>
  value === null || value === undefined ? '—' : value.toFixed(digits);

export const mark = (ok: boolean | null) => (ok === null ? '–' : ok ? '✓' : '✗');

/** Columns of text: the first two left-aligned, the rest right-aligned, two spaces apart. */
export function formatColumns(header: string[], rows: string[][]): string[] {
  const table = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
  return table.map((row) =>
    row
      .map((cell, i) => (i < 2 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

const COLUMNS = [
  'strategy',
  '',
  'pods',
  'Jain',
  'first call ms',
  'failed',
  'added p50 ms',
  'added p99 ms',
  'CPU ms',
  'RSS MiB',
];

export function compareTable(results: StrategyResult[], settings: ReportSettings): string {
  const rows = results.map((r) => [
    r.name,
    mark(r.ok),
    r.podsReached === null ? '—' : `${r.podsReached}/${r.pods}`,
    fixed(r.jain, 2),
    r.firstCallMs ? `${r.firstCallMs.median} / ${r.firstCallMs.max}` : '—',
    r.failed ? `${r.failed.kill} / ${r.failed.scaleDown}` : '—',
    r.addedMs ? addedText(r.addedMs.p50, r.addedMs.p50Range) : '—',
    r.addedMs ? addedText(r.addedMs.p99, r.addedMs.p99Range) : '—',
    fixed(r.cpuMs, 0),
    fixed(r.rssMiB, 0),
  ]);
  const { latency } = settings;
  const ms = (value: number | null) => (value === null ? '—' : value < 10 ? value.toFixed(1) : value.toFixed(0));
  const hops = results
    .filter((r) => r.hops)
    .map((r) => [
      r.name,
      mark(r.ok),
      ms(r.hops?.published ?? null),
      ms(r.hops?.source ?? null),
      ms(r.hops?.connected ?? null),
      ms(r.hops?.firstCall ?? null),
    ]);
  return [
    ...formatColumns(COLUMNS, rows),
    '',
    ...(hops.length > 0
      ? [
          "From an added pod's Ready to the strategy's first call to it, hop by hop (ms after the Ready, median over the added pods):",
          ...formatColumns(['strategy', '', 'in the slice', 'its source knew', 'proxy connected', 'first call'], hops),
          ...(settings.cluster
            ? [
                "  on a cluster the lab sees the EndpointSlices and the clients' calls; what happens between them is in the",
                "  cluster's own data plane (kube-proxy, CoreDNS, the mesh's proxy), which its API does not show",
              ]
            : [
                "  its source: what the strategy follows — kube-proxy's endpoints (l4), a DNS answer served (dns), a watch",
                "  event sent (k8s), an xDS push (xds), nginx reloaded (edge), the mesh's endpoint set (mesh); proxy: the mesh's connection",
              ]),
          '',
        ]
      : []),
    "pods: pods that answered after the scale-up, of those ready (counted from the rollout's end)",
    'Jain: fairness over those pods (1 = even, 0.2 = all on one of 5)',
    "first call ms: from an added pod's Ready to the client's first call to it, median / max",
    'failed: calls lost after the SIGKILL / while scaling down',
    ...(settings.cluster
      ? [
          'added ms, CPU ms, RSS MiB: — on a cluster: the lab measures them with a probe of its own beside the pods and',
          "  from /proc, neither of which a cluster's API offers (kubectl top pod shows a pod's CPU and memory)",
        ]
      : [
          `added ms: over calling a pod directly, at ${latency.rate} calls/s: the median of ${latency.rounds} rounds (the range over them);`,
          '  ≈ 0: the range holds 0, the difference is within the noise',
          "CPU ms, RSS MiB: the client's process over the run (+ nginx for edge)",
        ]),
    ...(settings.connectionAgeMs === undefined
      ? []
      : [`+age: servers that send GOAWAY after ${settings.connectionAgeMs} ms`]),
    ...(settings.cluster ? [clusterLine(settings)] : []),
    '',
    ...notesOf(results),
    '',
    conclusion(results),
  ].join('\n');
}

/** Where a cluster run ran, and what its figures rest on. */
function clusterLine(settings: ReportSettings): string {
  const pace =
    settings.rate !== undefined
      ? `${settings.rate} calls/s each`
      : `a call every ${settings.intervalMs ?? 1000} ms each`;
  return `on the cluster: context ${settings.cluster?.context}, namespace ${settings.cluster?.namespace}; the clients as deployed (${pace}); call times from the pods' own clocks`;
}

export function notesOf(
  results: ReadonlyArray<Pick<StrategyResult, 'ok' | 'name' | 'how' | 'expected' | 'notes'>>,
): string[] {
  return results.flatMap((r) => [
    `  ${mark(r.ok)} ${r.name}: ${r.how}`,
    `      expected: ${r.expected}`,
    ...r.notes.map((note) => `      ${note}`),
  ]);
}

export function conclusion(results: ReadonlyArray<Pick<StrategyResult, 'ok' | 'name'>>): string {
  const measured = results.filter((r) => r.ok !== null);
  const failing = measured.filter((r) => !r.ok).map((r) => r.name);
  return failing.length === 0
    ? `Every strategy measured showed what it is expected to (${measured.length} of ${results.length}).`
    : `Not as expected: ${failing.join(', ')} (see the ✗ lines).`;
}

const percent = (value: number | null) => (value === null ? '—' : `${(value * 100).toFixed(1)}`);
const seconds = (ms: number | null) => (ms === null ? 'never' : (ms / 1000).toFixed(1));

const ROLLOUT_COLUMNS = ['strategy', '', 'failed during', 'pods after', 'Jain after', 'even after s', 'Jain later'];

export function rolloutTable(results: RolloutResult[]): string {
  const rows = results.map((r) => [
    r.name,
    mark(r.ok),
    r.failedDuring === null ? '—' : String(r.failedDuring),
    r.podsReached === null ? '—' : `${r.podsReached}/${r.pods}`,
    fixed(r.jainAfter, 2),
    r.ok === null ? '—' : seconds(r.evenAfterMs),
    fixed(r.jainLater, 2),
  ]);
  return [
    ...formatColumns(ROLLOUT_COLUMNS, rows),
    '',
    "failed during: calls that failed from `rollout restart` to the rollout's end",
    'pods after, Jain after: the new pods reached right after the rollout, and how evenly (1 = even)',
    `even after s: from the rollout's end until every 2 s had Jain ≥ ${EVEN} over the ready pods, and stayed so`,
    'Jain later: the same, a minute later',
    '',
    ...notesOf(results),
    '',
    conclusion(results),
  ].join('\n');
}

const FAULT_NOUN: Record<FaultKind, string> = {
  slow: 'the slow pod',
  failing: 'the failing pod',
  hung: 'the hung pod',
};

export function faultTable(results: FaultResult[], kind: FaultKind, settings: ReportSettings): string {
  const columns = [
    'strategy',
    '',
    `OK ≤ ${settings.deadlineMs} ms %`,
    'p50 ms',
    'p99 ms',
    'p99.9 ms',
    kind === 'hung' ? 'failed' : 'to bad pod %',
    kind === 'hung' ? 'last failure s' : 'avoided after s',
  ];
  const rows = results.map((r) => [
    r.name,
    mark(r.ok),
    percent(r.success),
    fixed(r.p50, 1),
    fixed(r.p99, 1),
    fixed(r.p999, 1),
    kind === 'hung' ? (r.failed === null ? '—' : String(r.failed)) : percent(r.badShare),
    // A hung pod that cost a strategy no call has no last failure to time.
    r.calls === null || (kind === 'hung' && r.failed === 0) ? '—' : seconds(r.avoidedAfterMs),
  ]);
  return [
    ...formatColumns(columns, rows),
    '',
    `OK ≤ ${settings.deadlineMs} ms: calls answered OK within the deadline, of all calls while ${FAULT_NOUN[kind]} was there`,
    'p50, p99, p99.9: latency of every call (a failed call counts what it took)',
    kind === 'hung'
      ? 'failed, last failure: calls that failed, and when the last one came after the pod hung'
      : `to bad pod: the share of calls ${FAULT_NOUN[kind]} answered, or that failed ${kind === 'slow' ? 'at the deadline (only it keeps a call that long)' : '(only it fails a call)'};\n  avoided after: from its Ready to the last call it got ('never': it still got calls at the end)`,
    settings.rate !== undefined
      ? `each client: ${settings.rate} calls per second, started on schedule (an open loop)`
      : '',
    '',
    ...notesOf(results),
    '',
    conclusion(results),
  ].join('\n');
}

export function compareJson(
  results: StrategyResult[],
  recording: Recording,
  settings: ReportSettings,
  more: { rollout?: RolloutResult[]; faults?: { kind: FaultKind; results: FaultResult[] } } = {},
) {
  return {
    scenario: settings.scenario,
    ...(more.rollout && { rollout: more.rollout }),
    ...(more.faults && { faults: more.faults }),
    settings: {
      deadlineMs: settings.deadlineMs,
      intervalMs: settings.intervalMs ?? null,
      rate: settings.rate ?? null,
      connectionAgeMs: settings.connectionAgeMs ?? null,
      latency: settings.cluster ? null : settings.latency,
      cluster: settings.cluster ?? null,
    },
    phases: recording.phases,
    steps: recording.steps,
    events: recording.events,
    strategies: results,
  };
}
