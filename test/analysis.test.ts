// The figures the lab prints, on made-up recordings: Jain's index, shares, first calls, latency and
// success within a deadline, the bad pod's share — and compare's verdict per strategy, failing cases
// included. One recording gives the same figures to every consumer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { percentile } from '../src/common/statistics.js';
import {
  avoidedAfter,
  badPodCalls,
  countsByPod,
  firstCallFigures,
  firstCalls,
  jain,
  latency,
  podsReached,
  readyAt,
  readyPodsAt,
  shares,
  successWithin,
} from '../src/lab/experiment/analysis.js';
import { clientEntry } from '../src/lab/experiment/clients.js';
import { roleOf, summarize } from '../src/lab/compare/summary.js';
import { tallies } from '../src/lab/run/view.js';
import type { Call } from '../src/lab/experiment/recording.js';
import { addedText } from '../src/lab/compare/latency.js';
import { calls, client, failed, pod, PODS, scaleRecording } from './support/recordings.js';

describe("Jain's fairness index", () => {
  it('is 1 for an even spread and 1/n when one pod takes every call', () => {
    assert.equal(jain({ '10.0.0.1': 7, '10.0.0.2': 7, '10.0.0.3': 7, '10.0.0.4': 7, '10.0.0.5': 7 }, PODS), 1);
    assert.equal(jain({ '10.0.0.1': 30 }, PODS), 0.2);
  });

  it('counts a pod with no call as 0, and says nothing when there were no calls', () => {
    // (10+10)² / (4 · (100+100)) = 0.5
    assert.equal(jain({ '10.0.0.1': 10, '10.0.0.2': 10 }, PODS.slice(0, 4)), 0.5);
    assert.equal(jain({}, PODS), null);
    assert.equal(jain({ '10.0.0.1': 3 }, []), null);
  });

  it('ignores calls to pods outside the set judged', () => {
    assert.equal(jain({ '10.0.0.1': 5, '10.0.0.2': 5, '10.9.9.9': 100 }, ['10.0.0.1', '10.0.0.2']), 1);
  });
});

describe('shares, pods reached, first calls', () => {
  it('gives each pod its share of the answered calls, 0 for pods with none', () => {
    assert.deepEqual(shares({ '10.0.0.1': 3, '10.0.0.2': 1 }, ['10.0.0.1', '10.0.0.2', '10.0.0.3']), {
      '10.0.0.1': 0.75,
      '10.0.0.2': 0.25,
      '10.0.0.3': 0,
    });
    assert.equal(podsReached({ '10.0.0.1': 3, '10.0.0.2': 0, '10.0.0.3': 1 }), 2);
    assert.deepEqual(countsByPod([[0, 1, 'a', 'OK'], failed(1), [2, 1, 'a', 'OK']]), { a: 2 });
  });

  it('times each added pod from its Ready to the first answered call from it; null for one never reached', () => {
    const added = [pod('10.0.0.2', 1000), pod('10.0.0.3', 1000), pod('10.0.0.4', 1200)];
    const record = client('mesh', [
      [1040, 1, '10.0.0.2', 'OK'],
      failed(1090, 'UNAVAILABLE', '10.0.0.3'),
      [1100, 1, '10.0.0.3', 'OK'],
    ]);
    const first = firstCalls(record, added, 5000);
    assert.deepEqual(first, { '10.0.0.2': 40, '10.0.0.3': 100, '10.0.0.4': null });
    assert.deepEqual(firstCallFigures(first), { newPods: 3, reached: 2, medianMs: 40, maxMs: 100 });
  });

  it('the one percentile: nearest rank, so the median of an even count is the lower middle value', () => {
    assert.equal(percentile([5, 1, 3, 2, 4], 50), 3);
    assert.equal(percentile([1, 2, 3, 4], 50), 2);
    assert.equal(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        99,
      ),
      99,
    );
    assert.ok(Number.isNaN(percentile([], 50)));
  });

  it('knows which pods were ready when: not before Ready, not after terminating', () => {
    const leaving = pod('10.0.0.2', 1000, { terminating: 5000, gone: 6000 });
    assert.equal(readyAt(leaving, 999), false);
    assert.equal(readyAt(leaving, 1000), true);
    assert.equal(readyAt(leaving, 5000), false);
    const flapping = pod('10.0.0.3', 1000, { unready: [2000], ready: [1000, 3000] });
    assert.deepEqual([readyAt(flapping, 2500), readyAt(flapping, 3500)], [false, true]);
  });
});

describe('latency, success within a deadline, the bad pod', () => {
  const record = [
    ...calls(0, 10_000, ['a', 'b', 'c', 'd'], 10, 2),
    ...calls(5, 10_005, ['bad'], 40, 300),
    failed(10_000, 'DEADLINE_EXCEEDED', '', 250),
  ];

  it('takes percentiles over every call, failed ones at what they took', () => {
    const figures = latency(record);
    assert.equal(figures?.p50, 2);
    assert.equal(figures?.p999, 300);
  });

  it('counts a call that answered after the deadline as not a success', () => {
    // 1000 fast ones of 1251 calls
    assert.equal(successWithin(record, 250)?.toFixed(3), (1000 / 1251).toFixed(3));
    assert.equal(successWithin([], 250), null);
  });

  it("counts the bad pod's calls (its answers and the failed ones), and when the client stopped calling it", () => {
    // 250 answered by it, and the one that failed at its deadline
    assert.equal(badPodCalls(record, new Set(['bad'])).length, 251);
    // A slow pod fails calls only at their deadline: a call refused with UNAVAILABLE is someone else's.
    const refused = [...record, failed(10_100, 'UNAVAILABLE', '', 0)];
    assert.equal(badPodCalls(refused, new Set(['bad'])).length, 252);
    assert.equal(badPodCalls(refused, new Set(['bad']), (code) => code === 'DEADLINE_EXCEEDED').length, 251);
    const stopped = [...calls(0, 3000, ['a', 'bad']), ...calls(3000, 10_000, ['a'])];
    assert.equal(avoidedAfter(stopped, new Set(['bad']), 1000, { from: 0, to: 10_000 }), 1900);
    assert.equal(avoidedAfter(calls(0, 10_000, ['a', 'bad']), new Set(['bad']), 1000, { from: 0, to: 10_000 }), null);
    assert.equal(avoidedAfter(calls(0, 10_000, ['a']), new Set(['bad']), 1000, { from: 0, to: 10_000 }), 0);
  });
});

describe("compare's verdict per strategy (the scale scenario)", () => {
  it('finds the phases by what came before them', () => {
    const recording = scaleRecording([]);
    assert.deepEqual(
      recording.phases.map((phase) => roleOf(recording, phase)),
      ['start', 'scale-up', 'kill', 'scale-down'],
    );
  });

  it('a balanced strategy: every pod, even, no call lost while scaling down, its figures', () => {
    const recording = scaleRecording([
      client('mesh', [...calls(0, 11_050, ['10.0.0.1']), ...calls(11_050, 40_000, PODS), failed(20_010)], {
        cost: { cpuMs: 120, rssMiB: 60 },
      }),
    ]);
    const [result] = summarize(recording, [clientEntry('mesh')]);
    assert.equal(result?.ok, true);
    assert.equal(result?.podsReached, 5);
    assert.equal(result?.pods, 5);
    assert.equal(result?.jain, 1);
    assert.deepEqual(result?.failed, { kill: 1, scaleDown: 0 });
    assert.equal(result?.share?.['10.0.0.3'], 0.2);
    assert.ok(result?.firstCallMs && result.firstCallMs.max < 500);
    assert.equal(result?.cpuMs, 120);
  });

  it('an every-pod strategy that loses calls while scaling down, or misses a pod, gets a ✗', () => {
    const lost = summarize(
      scaleRecording([client('edge', [...calls(0, 40_000, PODS), failed(31_000), failed(31_100)])]),
      [clientEntry('edge')],
    )[0];
    assert.equal(lost?.ok, false);
    assert.match(lost?.notes[0] ?? '', /2 calls lost while scaling down/);
    const missed = summarize(scaleRecording([client('xds', calls(0, 40_000, PODS.slice(0, 4)))]), [
      clientEntry('xds'),
    ])[0];
    assert.equal(missed?.ok, false);
    assert.equal(missed?.podsReached, 4);
  });

  it('l4 and dns must stay on their first pod: a spread, or a move to an added pod, is a ✗ for them', () => {
    const stuck = summarize(scaleRecording([client('l4', calls(0, 40_000, ['10.0.0.1']))]), [clientEntry('l4')])[0];
    assert.equal(stuck?.ok, true);
    assert.equal(stuck?.jain, 0.2);
    assert.equal(stuck?.firstCallMs, null);
    const spread = summarize(scaleRecording([client('dns', calls(0, 40_000, PODS))]), [clientEntry('dns')])[0];
    assert.equal(spread?.ok, false);
    const moved = summarize(
      scaleRecording([client('dns', [...calls(0, 12_000, ['10.0.0.1']), ...calls(12_000, 40_000, ['10.0.0.4'])])]),
      [clientEntry('dns')],
    )[0];
    assert.equal(moved?.podsReached, 1);
    assert.equal(moved?.ok, false);
  });

  it('+age strategies must reach an added pod; one reached only after the kill does not count', () => {
    const recordingFor = (name: string, list: ReturnType<typeof calls>) => {
      const recording = scaleRecording([client(name, list)], ['addr-server', 'addr-server-aged']);
      recording.pods = recording.pods.map((p) => ({ ...p, deployment: 'addr-server-aged' }));
      return recording;
    };
    const aged = summarize(
      recordingFor('dns+age', [...calls(0, 15_000, ['10.0.0.1']), ...calls(15_000, 40_000, PODS)]),
      [clientEntry('dns+age')],
    )[0];
    assert.equal(aged?.ok, true);
    const late = summarize(
      recordingFor('l4+age', [...calls(0, 20_000, ['10.0.0.1']), ...calls(20_000, 40_000, ['10.0.0.3'])]),
      [clientEntry('l4+age')],
    )[0];
    assert.equal(late?.ok, false);
    assert.equal(late?.firstCallMs, null);
  });

  it('a strategy that could not run has null figures and says why', () => {
    const [result] = summarize(scaleRecording([client('edge', [], { unavailable: 'nginx is not installed' })]), [
      clientEntry('edge'),
    ]);
    assert.equal(result?.ok, null);
    assert.equal(result?.podsReached, null);
    assert.deepEqual(result?.notes, ['nginx is not installed']);
  });
});

describe('one recording, the same numbers for every consumer', () => {
  it("run's tables and compare's figures agree on the scaled-up phase", () => {
    const list = [...calls(0, 11_050, ['10.0.0.1']), ...calls(11_050, 40_000, PODS)];
    const recording = scaleRecording([client('mesh', list), client('k8s', list)]);
    const phases = tallies(recording, [clientEntry('mesh'), clientEntry('k8s')]);
    const up = phases.find((phase) => phase.name === 'scaled up');
    const compared = summarize(recording, [clientEntry('mesh'), clientEntry('k8s')]);
    for (const [i, result] of compared.entries()) {
      const tally = up?.clients[i];
      assert.equal(Object.keys(tally?.counts ?? {}).length, result.podsReached);
      assert.deepEqual(up?.pods, readyPodsAt(recording, 12_000, ['addr-server']));
      const figures = firstCallFigures(tally?.firstCallMs ?? {});
      assert.equal(figures.medianMs, result.firstCallMs?.median);
      assert.equal(figures.maxMs, result.firstCallMs?.max);
    }
    assert.equal(up?.rolloutMs, 2000);
    assert.equal(up?.replicas, 5);
  });
});

describe('when the spread turned even', () => {
  it('is the first whole bin from which every judged bin is even; bins with too few calls are passed over', async () => {
    const { evenAfter } = await import('../src/lab/experiment/analysis.js');
    const recording = scaleRecording([]);
    const uneven = calls(20_000, 24_000, ['10.0.0.2', '10.0.0.2', '10.0.0.3'], 50);
    const even = calls(24_000, 30_100, PODS.slice(1), 50);
    const record = client('k8s', [...uneven, ...even]);
    // Pods .2–.5 are ready after the kill (the oldest, .1, is not in this made-up recording's kill).
    const [oldest] = recording.pods;
    assert.ok(oldest);
    recording.pods[0] = { ...oldest, terminating: 20_000, gone: 20_100 };
    assert.equal(evenAfter(recording, record, { from: 20_000, to: 30_100 }, ['addr-server']), 4000);
    assert.equal(
      evenAfter(recording, client('l4', calls(20_000, 30_000, ['10.0.0.2'])), { from: 20_000, to: 30_000 }, [
        'addr-server',
      ]),
      null,
    );
    assert.equal(evenAfter(recording, client('idle', []), { from: 20_000, to: 30_000 }, ['addr-server']), null);
  });
});

describe('time to balance, hop by hop', () => {
  it("times each hop from the pod's Ready: in the slice, its source knew, its proxy connected, first call", async () => {
    const { balanceHops } = await import('../src/lab/experiment/analysis.js');
    const recording = scaleRecording([]);
    const added = recording.pods.filter((p) => (p.ready[0] ?? 0) >= 10_000);
    for (const p of added) {
      const ready = p.ready[0] ?? 0;
      (recording.seen['slice:addr-server'] ??= {})[p.ip] = ready + 2;
      (recording.seen['mesh:mesh'] ??= {})[p.ip] = ready + 5;
      (recording.connected['mesh:mesh'] ??= {})[p.ip] = ready + 9;
    }
    const record = client(
      'mesh',
      added.map((p, i): Call => [(p.ready[0] ?? 0) + 40 + 10 * i, 1, p.ip, 'OK']),
    );
    const { perPod, median } = balanceHops(
      recording,
      record,
      added,
      { service: 'addr-server', part: 'mesh:mesh', proxy: 'mesh:mesh' },
      20_000,
    );
    assert.deepEqual(perPod['10.0.0.2'], { published: 2, source: 5, connected: 9, firstCall: 40 });
    // 4 added pods: first calls 40, 50, 60, 70 ms after each one's Ready; the median is the lower middle.
    assert.deepEqual(median, { published: 2, source: 5, connected: 9, firstCall: 50 });
    // A strategy with no proxy, and a part that never saw the pods: nothing made up.
    const direct = balanceHops(recording, record, added, { service: 'addr-server', part: 'xds:addr-server' }, 20_000);
    assert.deepEqual(direct.median, { published: 2, source: null, connected: null, firstCall: 50 });
  });
});

describe("compare's added-latency figure", () => {
  it('gives the median and its range; ≈ 0 when the range holds 0 or lies wholly below it, never a negative cost', () => {
    assert.equal(addedText(0.41, [0.3, 0.52]), '+0.41 (0.30–0.52)');
    assert.equal(addedText(0.05, [-0.2, 0.35]), '≈ 0 (±0.35)');
    assert.equal(addedText(-0.4, [-0.52, -0.3]), '≈ 0 (−0.52–−0.30)');
  });
});
