// compare's verdicts for the rollout and the bad-pod scenarios, on made-up recordings: each strategy is
// judged by what its mechanism implies, and each way of missing it gives a ✗ with the figure.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { summarizeFaults, UNJUDGED_EDGE } from '../src/lab/compare/faults.js';
import { faultTable } from '../src/lab/compare/report.js';
import { summarizeRollout } from '../src/lab/compare/rollout.js';
import { clientEntry } from '../src/lab/experiment/clients.js';
import type { Call, ClientRecord, PodRecord, Recording, StepRecord } from '../src/lab/experiment/recording.js';
import { calls, client, failed, pod } from './support/recordings.js';

const OLD = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'];
const NEW = ['10.0.0.6', '10.0.0.7', '10.0.0.8', '10.0.0.9', '10.0.0.10'];

const step = (index: number, action: string, from: number, to: number, more: Partial<StepRecord> = {}): StepRecord => ({
  index,
  line: index,
  action,
  text: action,
  from,
  to,
  ...more,
});

/**
 * A rollout, made up: five old pods; `rollout restart` at 20 s; five new pods ready by 24 s, the old
 * ones gone by 26 s (the rollout's end); counted 26–46 s ("after"), a pause, then 86–106 s ("later").
 */
function rolloutRecording(clients: ClientRecord[]): Recording {
  const pods: PodRecord[] = [
    ...OLD.map((ip) => pod(ip, 500, { terminating: 22_000, gone: 25_000 })),
    ...NEW.map((ip, i) => pod(ip, 21_000 + i * 500)),
  ];
  return {
    scenario: { name: 'rollout', file: 'rollout.yml', description: '' },
    startedAt: 0,
    deployments: ['addr-server'],
    steps: [
      step(1, 'scale', 0, 0, { replicas: 5 }),
      step(2, 'wait', 0, 500),
      step(3, 'count', 500, 20_000),
      step(4, 'rollout', 20_000, 20_000),
      step(5, 'wait', 20_000, 26_000),
      step(6, 'count', 26_000, 46_000),
      step(7, 'pause', 46_000, 86_000),
      step(8, 'count', 86_000, 106_000),
    ],
    phases: [
      { name: 'before the rollout', step: 3, from: 500, to: 20_000 },
      { name: 'after the rollout', step: 6, from: 26_000, to: 46_000 },
      { name: 'a minute later', step: 8, from: 86_000, to: 106_000 },
    ],
    pods,
    clients,
    events: [],
    seen: {},
    connected: {},
  };
}

const rollout = (name: string, list: Call[]) => {
  const [result] = summarizeRollout(rolloutRecording([client(name, list)]), [clientEntry(name)]) ?? [];
  assert.ok(result, 'a result');
  return result;
};

describe('the rollout verdicts', () => {
  it('a watch-based strategy: even over the new pods right after, nothing lost: ✓', () => {
    const result = rollout('k8s', [...calls(0, 23_000, OLD), ...calls(23_000, 106_000, NEW)]);
    assert.equal(result.ok, true);
    assert.equal(result.failedDuring, 0);
    assert.equal(result.podsReached, 5);
    assert.equal(result.jainAfter, 1);
    assert.equal(result.evenAfterMs, 0);
  });

  it('the same strategy losing calls during the rollout, or uneven after it: ✗ with the figure', () => {
    const lost = rollout('mesh', [
      ...calls(0, 23_000, OLD),
      failed(23_500),
      failed(23_600),
      ...calls(23_700, 106_000, NEW),
    ]);
    assert.equal(lost.ok, false);
    assert.ok(lost.notes.includes('2 calls failed during the rollout'), lost.notes.join('; '));
    const uneven = rollout('xds', [
      ...calls(0, 23_000, OLD),
      ...calls(23_000, 106_000, ['10.0.0.6', '10.0.0.6', '10.0.0.7']),
    ]);
    assert.equal(uneven.ok, false);
    assert.match(uneven.notes.join('; '), /Jain 0\.\d+ right after/);
  });

  it('l4 ends on one new pod: ✓; spread over several: ✗', () => {
    assert.equal(rollout('l4', [...calls(0, 23_000, ['10.0.0.1']), ...calls(23_000, 106_000, ['10.0.0.8'])]).ok, true);
    const spread = rollout('l4', [...calls(0, 23_000, ['10.0.0.1']), ...calls(23_000, 106_000, NEW)]);
    assert.equal(spread.ok, false);
    assert.match(spread.notes.join('; '), /reached 5 pods right after/);
  });

  it('+age and dns reach more than one new pod within a minute: ✓; still on one: ✗', () => {
    const later = rollout('dns', [...calls(0, 46_000, ['10.0.0.7']), ...calls(46_000, 106_000, NEW.slice(0, 3))]);
    assert.equal(later.ok, true);
    assert.equal(later.evenAfterMs, null, 'never even over the five');
    const stuck = rollout('dns', calls(0, 106_000, ['10.0.0.7']));
    assert.equal(stuck.ok, false);
    assert.match(stuck.notes.join('; '), /still on 1 pod a minute later/);
  });

  it("Linkerd's p2c: a new pod may wait for its 30 ms estimate to decay, but all get calls within a minute: ✓", () => {
    // Four new pods from the rollout's end, the fifth only in the "later" phase: what PeakEwma does.
    const late = rollout('mesh-p2c', [
      ...calls(0, 23_000, OLD),
      ...calls(23_000, 46_000, NEW.slice(0, 4)),
      ...calls(46_000, 106_000, NEW),
    ]);
    assert.equal(late.ok, true, late.notes.join('; '));
    assert.equal(late.podsReached, 4);
    const never = rollout('mesh-p2c', [...calls(0, 23_000, OLD), ...calls(23_000, 106_000, NEW.slice(0, 4))]);
    assert.equal(never.ok, false);
    assert.ok(never.notes.includes('reached 4 of 5 new pods a minute later'), never.notes.join('; '));
    const lost = rollout('mesh-p2c', [...calls(0, 23_000, OLD), failed(23_500), ...calls(23_600, 106_000, NEW)]);
    assert.equal(lost.ok, false);
    assert.ok(lost.notes.includes('1 call failed during the rollout'), lost.notes.join('; '));
  });

  it('a call an old pod drops after the rollout is complete, while it drains, counts as lost during it', () => {
    // The rollout is complete at 26 s with the old pods terminating; they go at 30 s, one call lost at 28 s.
    const recording = rolloutRecording([
      client('k8s', [...calls(0, 23_000, OLD), failed(28_000), ...calls(23_000, 106_000, NEW)]),
    ]);
    recording.pods = recording.pods.map((p) => (OLD.includes(p.ip) ? { ...p, gone: 30_000 } : p));
    const [result] = summarizeRollout(recording, [clientEntry('k8s')]) ?? [];
    assert.equal(result?.failedDuring, 1);
    assert.equal(result?.ok, false);
  });

  it('no rollout in the scenario: no rollout figures', () => {
    const recording = rolloutRecording([]);
    recording.steps = recording.steps.filter((s) => s.action !== 'rollout');
    assert.equal(summarizeRollout(recording, [clientEntry('k8s')]), undefined);
  });
});

/**
 * A bad pod, made up: four pods from the start, a fifth of a fault Deployment ready at 10 s (`fault`
 * step at 9 s), counted 12–42 s; or, for a hung pod, five pods and the newest stopped at 12 s.
 */
function faultRecording(kind: 'slow' | 'failing' | 'hung', clients: ClientRecord[], phaseEnd = 42_000): Recording {
  const good = OLD.slice(0, 4).map((ip) => pod(ip, 500));
  const bad =
    kind === 'hung'
      ? pod('10.0.0.5', 500, { stopped: [{ from: 12_000, to: 42_000 }] })
      : pod('10.0.0.5', 10_000, { fault: true, deployment: 'addr-server-fault' });
  const faultStep =
    kind === 'hung'
      ? step(4, 'stop', 12_000, 12_000)
      : step(4, 'fault', 9_000, 9_000, {
          text: kind === 'slow' ? 'a faulty pod: delay-ms 1000' : 'a faulty pod: fail-percent 100',
        });
  return {
    scenario: { name: `${kind}-pod`, file: `${kind}-pod.yml`, description: '' },
    startedAt: 0,
    deployments: ['addr-server'],
    steps: [
      step(1, 'scale', 0, 0, { replicas: 4 }),
      step(2, 'wait', 0, 500),
      step(3, 'count', 500, 9_000),
      faultStep,
      step(5, 'wait', 12_000, 12_000),
      step(6, 'count', 12_000, phaseEnd),
    ],
    phases: [
      { name: 'before', step: 3, from: 500, to: 9_000 },
      { name: 'with the bad pod', step: 6, from: 12_000, to: phaseEnd },
    ],
    pods: [...good, bad],
    clients,
    events: [],
    seen: {},
    connected: {},
  };
}

const faults = (kind: 'slow' | 'failing' | 'hung', name: string, list: Call[], phaseEnd?: number) => {
  const [result] =
    summarizeFaults(faultRecording(kind, [client(name, list)], phaseEnd), [clientEntry(name)], 250) ?? [];
  assert.ok(result, 'a result');
  return result;
};

/** A call every 20 ms for 30 s, to the pods in turn; the bad pod's calls fail as `bad` says. */
function turns(pods: string[], bad: (t: number) => Call | undefined, from = 12_000, to = 42_000): Call[] {
  return calls(from, to, pods, 20, 8).map((call) => (call[2] === '10.0.0.5' ? (bad(call[0]) ?? call) : call));
}

describe('the bad-pod verdicts', () => {
  const deadline = (t: number): Call => [t, 250, '', 'DEADLINE_EXCEEDED'];
  const unavailable = (t: number): Call => [t, 0.4, '', 'UNAVAILABLE'];

  it('slow: round-robin gives the slow pod its turn (✓, a fifth miss the deadline); one that avoids it is ✗', () => {
    const roundRobin = faults('slow', 'k8s', turns(OLD, deadline));
    assert.equal(roundRobin.ok, true);
    assert.equal(roundRobin.badShare, 0.2);
    assert.equal(roundRobin.success, 0.8);
    const avoided = faults(
      'slow',
      'mesh',
      turns(OLD.slice(0, 4), () => undefined),
    );
    assert.equal(avoided.ok, false, 'a round-robin strategy that never called the slow pod is not round-robin');
  });

  it("slow: p2c sends the slow pod a small share and keeps ≥ 95 % within the deadline; round-robin's share is a ✗", () => {
    const p2c = faults('slow', 'mesh-p2c', [
      ...turns(OLD.slice(0, 4), () => undefined),
      deadline(12_010),
      deadline(25_010),
    ]);
    assert.equal(p2c.ok, true);
    assert.ok((p2c.badShare ?? 1) < 0.05);
    const even = faults('slow', 'mesh-p2c', turns(OLD, deadline));
    assert.equal(even.ok, false);
    assert.match(even.notes.join('; '), /the slow pod got 20\.0 %/);
  });

  it("slow: a call that failed fast (no pod to connect to) is not the slow pod's doing", () => {
    // A dns client whose pods all went away: it fails at once until it asks DNS again, and never calls
    // the slow pod that came after its answer.
    const lost = faults('slow', 'dns', [
      ...calls(12_000, 20_000, ['-'], 20, 8).map(([t]) => unavailable(t)),
      ...turns(OLD.slice(0, 4), () => undefined, 20_000),
    ]);
    assert.equal(lost.badShare, 0);
    assert.equal(lost.ok, true, lost.notes.join('; '));
  });

  it('dns+age: the bad pod from its next DNS answer on, up to a fifth (✓); more than round-robin gives is ✗', () => {
    const later = faults('slow', 'dns+age', [
      ...turns(OLD.slice(0, 4), () => undefined, 12_000, 36_000),
      ...turns(OLD, deadline, 36_000),
    ]);
    assert.equal(later.ok, true, later.notes.join('; '));
    assert.ok((later.badShare ?? 0) > 0 && (later.badShare ?? 1) < 0.1, 'less than a round-robin gives');
    const most = faults('failing', 'dns+age', turns(['10.0.0.5', '10.0.0.5', '10.0.0.1'], unavailable));
    assert.equal(most.ok, false);
  });

  it('l4+age: several pods answer, whatever the bad pod got (✓); one pod all phase is ✗', () => {
    // A new random pick every 5 s: here none landed on the bad pod.
    const lucky = faults('failing', 'l4+age', [
      ...calls(12_000, 17_000, ['10.0.0.1'], 20, 8),
      ...calls(17_000, 22_000, ['10.0.0.3'], 20, 8),
      ...calls(22_000, 42_000, ['10.0.0.2'], 20, 8),
    ]);
    assert.equal(lucky.ok, true, lucky.notes.join('; '));
    assert.equal(lucky.badShare, 0);
    const stuck = faults('slow', 'l4+age', calls(12_000, 42_000, ['10.0.0.2'], 20, 8));
    assert.equal(stuck.ok, false);
    assert.match(stuck.notes.join('; '), /1 pod answered/);
  });

  it("on a cluster the edge (Envoy Gateway's least request) is shown with its figures, not judged", () => {
    const entry = { ...clientEntry('edge'), judgedAs: UNJUDGED_EDGE };
    const [result] =
      summarizeFaults(faultRecording('slow', [client('edge', turns(OLD, deadline))]), [entry], 250) ?? [];
    assert.equal(result?.ok, null);
    assert.equal(result?.badShare, 0.2);
    assert.match(result?.expected ?? '', /not judged: Envoy Gateway balances by least request/);
  });

  it('failing: round-robin fails a fifth; p2c without accrual fails at least as many; accrual and outlier detection far fewer', () => {
    assert.equal(faults('failing', 'mesh', turns(OLD, unavailable)).ok, true);
    assert.equal(faults('failing', 'mesh-p2c', turns(OLD, unavailable)).ok, true);
    // p2c that failed fewer than round-robin would: not what a fast failure does to peak EWMA.
    assert.equal(
      faults(
        'failing',
        'mesh-p2c',
        turns(OLD, (t) => (t % 60 < 20 ? unavailable(t) : undefined)),
      ).ok,
      false,
    );
    const accrual = faults('failing', 'mesh-accrual', [
      ...turns(OLD.slice(0, 4), () => undefined),
      ...[0, 1, 2, 3, 4, 5, 6].map((i) => unavailable(12_005 + i)),
    ]);
    assert.equal(accrual.ok, true);
    const noAccrual = faults('failing', 'mesh-accrual', turns(OLD, unavailable));
    assert.equal(noAccrual.ok, false);
    assert.match(noAccrual.notes.join('; '), /20\.0 % of its calls failed/);
    const ejected = faults(
      'failing',
      'k8s+outlier',
      turns(OLD, (t) => (t < 17_000 ? unavailable(t) : undefined)),
    );
    assert.equal(ejected.ok, true, ejected.notes.join('; '));
  });

  it('a client that started before the bad pod never calls it: ✓ for l4 and dns; one that did is ✗', () => {
    assert.equal(faults('failing', 'l4', calls(12_000, 42_000, ['10.0.0.1'], 20, 8)).ok, true);
    assert.equal(faults('slow', 'dns', turns(OLD, deadline)).ok, false);
  });

  it('hung: the calls that fail stop within 10 s of the pod hanging (✓); still failing at the end is ✗', () => {
    const bounded = faults(
      'hung',
      'k8s',
      turns(OLD, (t) => (t < 18_000 ? deadline(t) : undefined)),
    );
    assert.equal(bounded.ok, true);
    assert.ok((bounded.avoidedAfterMs ?? Infinity) <= 10_000);
    const never = faults('hung', 'mesh', turns(OLD, deadline));
    assert.equal(never.ok, false);
    assert.equal(never.avoidedAfterMs, null);
  });

  it('hung, l4 and dns: never on the hung pod is ✓; stuck on it to the end is ✗', () => {
    assert.equal(
      faults(
        'hung',
        'l4',
        turns(OLD.slice(0, 4), () => undefined),
      ).ok,
      true,
    );
    const stuck = faults(
      'hung',
      'l4',
      calls(12_000, 42_000, ['-'], 20, 1000).map(([t]) => deadline(t)),
    );
    assert.equal(stuck.ok, false, 'a pick_first client left on the hung pod is not as expected');
    assert.match(stuck.notes.join('; '), /its calls still failed at the end/);
    assert.equal(
      faults(
        'hung',
        'dns',
        turns(OLD, (t) => (t < 16_000 ? deadline(t) : undefined)),
      ).ok,
      true,
    );
  });

  it('hung, through the Service: a reconnect that lands on the hung pod again waits out the 20 s connect timeout (✓ for l4, l4+age; ✗ for dns)', () => {
    // On the hung pod at 12 s, keepalive drops it at 15 s, the reconnect lands on it again and connects
    // elsewhere at 35 s: every call fails until then.
    const relanded = [
      ...calls(12_000, 35_000, ['-'], 20, 1000).map(([t]): Call => deadline(t)),
      ...calls(35_000, 42_000, ['10.0.0.2'], 20, 8),
    ];
    for (const name of ['l4', 'l4+age']) {
      const result = faults('hung', name, relanded);
      assert.equal(result.ok, true, `${name}: ${result.notes.join('; ')}`);
      assert.ok((result.avoidedAfterMs ?? Infinity) > 20_000);
    }
    // A client that dials the pods tries the next address after 250 ms: 23 s is not its mechanism.
    assert.equal(faults('hung', 'dns', relanded).ok, false);
  });

  it('hung: a phase that ends before the bound can be told is not judged (–), with the reason', () => {
    const failing = calls(12_000, 24_000, ['-'], 20, 1000).map(([t]): Call => deadline(t));
    const short = faults('hung', 'l4', failing, 24_000);
    assert.equal(short.ok, null);
    assert.match(short.notes.join('; '), /not judged: its calls still failed when the phase ended, 12 s after/);
    // Long enough to tell: still failing at the end is ✗.
    assert.equal(faults('hung', 'k8s', failing, 24_000).ok, false);
    // The table: not judged (–), its calls still failing at the end (never), the reason, and no ✗ counted.
    const table = faultTable([short], 'hung', {
      scenario: 'hung-pod',
      deadlineMs: 1000,
      intervalMs: undefined,
      rate: 50,
      connectionAgeMs: undefined,
      latency: { rate: 200, seconds: 0, rounds: 1 },
    });
    assert.match(table, /^l4\s+–\s.*\bnever$/m);
    assert.match(table, /^ {6}not judged: its calls still failed when the phase ended/m);
    assert.match(table, /^Every strategy measured showed what it is expected to \(0 of 1\)\.$/m);
  });
});
