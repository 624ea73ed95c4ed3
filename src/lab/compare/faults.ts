// What a bad pod does to each strategy, from the clients' own records (not the servers'): the share of
// calls answered OK within the deadline, the latency percentiles, the share of calls the bad pod got, and
// how long until the strategy stopped calling it. Three kinds of bad pod, each a scenario:
//   slow     one pod answers every call late (--delay-ms): a noisy neighbour, a GC pause, a cold cache;
//   failing  one pod fails every call fast (--fail-percent 100): its own dependency is down;
//   hung     one pod's process is stopped (SIGSTOP): it accepts connections and answers nothing.
// Each strategy is judged against what its mechanism implies, with the source beside each expectation.
import {
  avoidedAfter,
  badPodCalls,
  callsIn,
  countsByPod,
  failures,
  latency,
  QUIET_MS,
  successWithin,
  type Window,
} from '../experiment/analysis.js';
import type { ClientEntry } from '../experiment/clients.js';
import type { Call, PhaseRecord, Recording } from '../experiment/recording.js';
import { roleOf } from './summary.js';

export type FaultKind = 'slow' | 'failing' | 'hung';

export interface FaultResult {
  name: string;
  how: string;
  expected: string;
  ok: boolean | null;
  notes: string[];
  calls: number | null;
  failed: number | null;
  /** answered OK within the deadline, of all calls in the fault's phase */
  success: number | null;
  p50: number | null;
  p99: number | null;
  p999: number | null;
  /** the share of calls that went to the bad pod: those it answered, and those that failed as it fails them (a slow pod: at the deadline) */
  badShare: number | null;
  /** ms from the fault's start to the strategy's last call to the bad pod (hung: its last failed call); null: it still called it at the end */
  avoidedAfterMs: number | null;
}

/** Which kind of fault the scenario puts in, when, and the phase it is counted in. */
export function faultOf(recording: Recording): { kind: FaultKind; since: number; phase: PhaseRecord } | undefined {
  const phase = recording.phases.find((p) => ['fault', 'stop'].includes(roleOf(recording, p)));
  if (!phase) return undefined;
  const step = [...recording.steps]
    .reverse()
    .find((s) => s.index < phase.step && (s.action === 'fault' || s.action === 'stop'));
  if (!step) return undefined;
  if (step.action === 'stop') return { kind: 'hung', since: step.from, phase };
  const kind: FaultKind = /fail-percent/.test(step.text) ? 'failing' : 'slow';
  // From the bad pod's Ready: before it, no strategy could call it.
  const bad = recording.pods.filter((pod) => pod.fault && pod.ready.length > 0);
  const since = bad.length > 0 ? Math.min(...bad.map((pod) => pod.ready[0] ?? step.from)) : step.from;
  return { kind, since, phase };
}

type Judge = (figures: {
  success: number;
  badShare: number | null;
  failedShare: number;
  avoidedAfterMs: number | null;
  /** how many pods answered at least one of its calls in the phase */
  podsAnswering: number;
  /** ms from the fault's start to the end of its phase */
  phaseMs: number;
}) => {
  /** null: the run cannot tell */
  ok: boolean | null;
  why: string;
};

interface Expectation {
  expected: string;
  judge: Judge;
}

const NEVER_CALLED: Expectation = {
  // Its connections (or its one DNS answer) predate the bad pod: it never learns of it (the post; grpc-node#2847).
  expected: 'never calls the bad pod: it came after the client chose its pods',
  judge: ({ badShare }) => ({ ok: (badShare ?? 0) === 0, why: `the bad pod got ${pct(badShare)} of its calls` }),
};

const pct = (value: number | null) => (value === null ? '—' : `${(value * 100).toFixed(1)} %`);

/**
 * A hung pod: the strategy's last failed call must come within `ms` of the hang. A phase that ends too soon
 * after the hang to tell (its last QUIET_MS are the quiet that `avoidedAfter` asks for) is not judged.
 */
const leavesWithin = (ms: number, expected: string): Expectation => ({
  expected,
  judge: ({ avoidedAfterMs, phaseMs }) => {
    if (avoidedAfterMs === null && phaseMs < ms + QUIET_MS) {
      return {
        ok: null,
        why: `not judged: its calls still failed when the phase ended, ${(phaseMs / 1000).toFixed(0)} s after the pod hung; this may take ${ms / 1000} s`,
      };
    }
    return {
      ok: avoidedAfterMs !== null && avoidedAfterMs <= ms,
      why:
        avoidedAfterMs === null
          ? 'its calls still failed at the end'
          : `its last failed call came ${(avoidedAfterMs / 1000).toFixed(1)} s after the pod hung`,
    };
  },
});

/**
 * On a cluster the edge is Envoy Gateway, which balances by least request unless told otherwise
 * (gateway.envoyproxy.io/docs/concepts/load-balancing): not what the lab's nginx does, and not modelled
 * here, so its row is shown and not judged.
 */
export const UNJUDGED_EDGE = 'edge (least request)';
const UNJUDGED: Expectation = {
  expected: 'not judged: Envoy Gateway balances by least request (its default), which the lab does not model',
  judge: () => ({ ok: true, why: '' }),
};

/** What each strategy should show with each kind of bad pod among five. */
function expectationFor(kind: FaultKind, name: string): Expectation {
  const roundRobin = ['k8s', 'xds', 'edge', 'mesh'].includes(name);
  if (kind !== 'hung' && (name === 'l4' || name === 'dns')) return NEVER_CALLED;
  if (kind !== 'hung' && name === 'l4+age') {
    // Its one connection ages out every few seconds (GOAWAY) and the Service picks a pod at random for the
    // next (kube-proxy's iptables statistic rule): the bad pod gets a whole stretch of calls when a pick
    // lands on it, a fifth on average and anywhere from none to most in one phase. What the mechanism
    // guarantees is the moving: several pods answer within the phase.
    return {
      expected: 'moves to a pod picked at random every time its connection ages out: several pods answer',
      judge: ({ podsAnswering, badShare }) => ({
        ok: podsAnswering >= 2,
        why: `${podsAnswering} pod${podsAnswering === 1 ? '' : 's'} answered; the bad pod got ${pct(badShare)}`,
      }),
    };
  }
  if (kind !== 'hung' && name === 'dns+age') {
    // Its connections age out, but grpc-js asks DNS again at most every 30 s (grpc-node#2076): it learns
    // of the bad pod at its next answer, anywhere from at once to 30 s later, and from then on gives it
    // its turn — never more than a round-robin's fifth.
    return {
      expected: 'gives the bad pod its turn once it asks DNS again (at most every 30 s): up to a fifth of the calls',
      judge: ({ badShare }) => ({
        ok: badShare !== null && badShare <= 0.3,
        why: `the bad pod got ${pct(badShare)}`,
      }),
    };
  }
  switch (kind) {
    case 'slow':
      if (name === 'k8s+outlier') {
        // A call the slow pod keeps past the deadline fails DEADLINE_EXCEEDED, and grpc-js's outlier
        // detection counts every status but OK as a failure: the slow pod is ejected like a failing one.
        return {
          expected: 'ejects the slow pod (its calls fail the deadline) within its 10 s interval',
          judge: ({ badShare }) => ({ ok: (badShare ?? 1) < 0.1, why: `the slow pod got ${pct(badShare)}` }),
        };
      }
      if (name === 'mesh-p2c' || name === 'mesh-accrual') {
        // Peak EWMA: a slow answer raises the pod's cost at once, and the calls waiting on it count
        // (tower load/peak_ewma.rs; Linkerd's "Beyond Round Robin": 99.9 % vs round-robin's 95 %). A
        // call its caller gives up on is never classified (linkerd2-proxy reads no grpc-timeout), so
        // failure accrual adds nothing here: the RTT sampled when the caller leaves is what keeps it away.
        return {
          expected: 'sends the slow pod a small share (< 5 %), so ≥ 95 % answer within the deadline',
          judge: ({ success, badShare }) => ({
            ok: (badShare ?? 1) < 0.05 && success >= 0.95,
            why: `the slow pod got ${pct(badShare)}, ${pct(success)} answered within the deadline`,
          }),
        };
      }
      if (roundRobin) {
        // Round-robin gives every ready pod its turn: about a fifth of the calls wait on the slow one.
        return {
          expected: 'gives the slow pod its turn (about a fifth of the calls), so about a fifth miss the deadline',
          judge: ({ badShare }) => ({
            ok: badShare !== null && badShare >= 0.1 && badShare <= 0.3,
            why: `the slow pod got ${pct(badShare)}`,
          }),
        };
      }
      break;
    case 'failing':
      if (name === 'k8s+outlier') {
        // Outlier detection ejects a pod failing ≥ 85 % of ≥ 50 calls at its next 10 s interval (gRFC A50;
        // grpc-js load-balancer-outlier-detection.ts): the failing pod's share is cut to a few seconds' worth.
        return {
          expected: 'ejects the failing pod within its 10 s interval: under a tenth of the calls fail',
          judge: ({ failedShare }) => ({ ok: failedShare < 0.1, why: `${pct(failedShare)} of its calls failed` }),
        };
      }
      if (name === 'mesh-accrual') {
        // Failure accrual, Linkerd's consecutive policy: 7 failures in a row take the pod out for 1 s, then
        // one probe at a time, the wait doubling up to a minute (linkerd.io/docs/reference/circuit-breaking).
        return {
          expected: 'sets the failing pod aside after 7 failures in a row: under 5 % of the calls fail',
          judge: ({ failedShare }) => ({ ok: failedShare < 0.05, why: `${pct(failedShare)} of its calls failed` }),
        };
      }
      if (name === 'mesh-p2c') {
        // A fast failure records a short RTT: p2c over peak EWMA takes the failing pod for the best one
        // (linkerd2-proxy #4537; linkerd2#11669). Without failure accrual nothing sets it aside.
        return {
          expected: 'fails at least as many calls as round-robin (a fast failure looks like a fast pod)',
          judge: ({ failedShare }) => ({ ok: failedShare >= 0.15, why: `${pct(failedShare)} of its calls failed` }),
        };
      }
      if (roundRobin) {
        return {
          expected: 'fails about a fifth of the calls: the failing pod keeps its turn',
          judge: ({ failedShare }) => ({
            ok: failedShare >= 0.1 && failedShare <= 0.3,
            why: `${pct(failedShare)} of its calls failed`,
          }),
        };
      }
      break;
    case 'hung':
      if (name === 'l4' || name === 'l4+age') {
        // Through the Service: client-grpc's keepalive (a ping every 2 s while calls are in flight, dropped
        // unanswered after 1 s: docs/reference.md) closes a connection to the hung pod within 3 s, and the
        // reconnect goes where kube-proxy sends it — a ready pod picked at random, and readiness keeps the
        // hung pod for 6 to 8 s. A reconnect that lands on it again gets its TCP handshake from the kernel
        // and never the server's SETTINGS: the channel waits out client-grpc's 20 s connect timeout (gRPC's
        // MIN_CONNECT_TIMEOUT, grpc/doc/connection-backoff.md) before it connects elsewhere.
        return leavesWithin(
          25_000,
          'if it was calling the hung pod, leaves it within 3 s (its keepalive drops the connection), or within ' +
            '25 s when the reconnect lands on the hung pod again (its 20 s connect timeout)',
        );
      }
      if (name === 'dns' || name === 'dns+age') {
        // They dial the pods DNS gave them, the hung one perhaps among them: the keepalive closes a connection
        // to it within 3 s, and pick_first connects to the next address once one has not connected within
        // 250 ms (grpc-js pick-first.ts, CONNECTION_DELAY_INTERVAL_MS).
        return leavesWithin(
          10_000,
          'if it was calling the hung pod, leaves it within 10 s (its keepalive drops the connection)',
        );
      }
      // The keepalive (the clients that dial pods) or readiness — three missed probes 2 s apart, the
      // manifest — whichever comes first: every strategy that follows the endpoints stops calling it.
      return leavesWithin(10_000, 'stops calling the hung pod within 10 s (its keepalive, or readiness)');
  }
  return {
    expected: 'no expectation set for this strategy here',
    judge: () => ({ ok: true, why: '' }),
  };
}

/** A verdict's lines under its row: none for a ✓, the reason for a ✗ or a run that cannot tell. */
const notesOf = ({ ok, why }: ReturnType<Judge>): string[] =>
  ok === true ? [] : ok === false ? ['not as expected', why] : [why];

const round = (value: number | null, digits = 3) => (value === null ? null : Number(value.toFixed(digits)));

export function summarizeFaults(
  recording: Recording,
  entries: readonly ClientEntry[],
  deadlineMs: number,
): FaultResult[] | undefined {
  const fault = faultOf(recording);
  if (!fault) return undefined;
  const { kind, since, phase } = fault;
  const window: Window = { from: phase.from, to: phase.to };
  const hungIps = new Set(recording.pods.filter((pod) => pod.stopped.length > 0).map((pod) => pod.ip));
  const badIps = kind === 'hung' ? hungIps : new Set(recording.pods.filter((pod) => pod.fault).map((pod) => pod.ip));
  return entries.map((entry): FaultResult => {
    const expectation =
      entry.judgedAs === UNJUDGED_EDGE ? UNJUDGED : expectationFor(kind, entry.judgedAs ?? entry.name);
    const base = { name: entry.name, how: entry.how, expected: expectation.expected };
    const record = recording.clients.find((client) => client.name === entry.name);
    if (!record || record.unavailable) {
      return {
        ...base,
        ok: null,
        notes: [record?.unavailable ?? 'not run'],
        calls: null,
        failed: null,
        success: null,
        p50: null,
        p99: null,
        p999: null,
        badShare: null,
        avoidedAfterMs: null,
      };
    }
    const calls = callsIn(record, window);
    const failed = failures(calls);
    const figures = latency(calls);
    const success = successWithin(calls, deadlineMs) ?? 0;
    // A hung pod answers nothing while it hangs (its calls are the ones that fail) and answers again once
    // it goes on: what counts is when its failures stopped. A slow or failing pod is bad throughout.
    // A slow pod fails a call only by keeping it past the deadline; a call that failed otherwise (no pod to
    // connect to, say) is not its doing.
    const bad =
      kind === 'hung'
        ? calls.filter((call) => call[3] !== 'OK')
        : kind === 'slow'
          ? badPodCalls(calls, badIps, (code) => code === 'DEADLINE_EXCEEDED')
          : badPodCalls(calls, badIps);
    const avoided = avoidedAfter(
      bad.map(([t]): Call => [t, 0, 'bad', '']),
      new Set(['bad']),
      since,
      window,
    );
    const share = kind === 'hung' ? null : calls.length ? bad.length / calls.length : null;
    const verdict = expectation.judge({
      success,
      badShare: share,
      failedShare: calls.length ? failed / calls.length : 0,
      avoidedAfterMs: avoided,
      podsAnswering: Object.keys(countsByPod(calls)).length,
      phaseMs: window.to - since,
    });
    return {
      ...base,
      ok: expectation === UNJUDGED ? null : calls.length === 0 ? false : verdict.ok,
      notes: calls.length === 0 ? ['no calls in the phase'] : notesOf(verdict),
      calls: calls.length,
      failed,
      success: round(success),
      p50: round(figures?.p50 ?? null, 2),
      p99: round(figures?.p99 ?? null, 2),
      p999: round(figures?.p999 ?? null, 2),
      badShare: round(share),
      avoidedAfterMs: avoided,
    };
  });
}
