// The figures `lab compare` gives, on made-up counts and timelines: Jain's index, shares, time to
// balance, and the verdict per strategy — failing cases included.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { percentile } from '../src/common/statistics.js';
import { jain, podsReached, shares, timeToBalance } from '../src/lab/compare/metrics.js';
import { STRATEGIES } from '../src/lab/compare/strategies.js';
import { summarize, type Recording, type StrategyRecord } from '../src/lab/compare/summary.js';

const PODS = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'];

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

describe('shares and pods reached', () => {
  it('gives each pod its share of the calls, 0 for pods with none', () => {
    assert.deepEqual(shares({ '10.0.0.1': 3, '10.0.0.2': 1 }, ['10.0.0.1', '10.0.0.2', '10.0.0.3']), {
      '10.0.0.1': 0.75,
      '10.0.0.2': 0.25,
      '10.0.0.3': 0,
    });
    assert.deepEqual(shares({}, ['10.0.0.1']), { '10.0.0.1': 0 });
  });

  it('counts pods with at least one call', () => {
    assert.equal(podsReached({ '10.0.0.1': 3, '10.0.0.2': 0, '10.0.0.3': 1 }), 2);
  });
});

describe('time to balance', () => {
  it('is the median and max delay from Ready to the first call, over the pods reached', () => {
    const readyAt = { a: 1000, b: 1000, c: 1200, d: 1300 };
    const firstReplyAt = { a: 1040, b: 1100, c: 1290, d: 1330 };
    assert.deepEqual(timeToBalance(readyAt, firstReplyAt), { median: 40, max: 100, never: 0 });
  });

  it('counts pods never called apart, and is null when none was called', () => {
    assert.deepEqual(timeToBalance({ a: 0, b: 0 }, { a: 250 }), { median: 250, max: 250, never: 1 });
    assert.equal(timeToBalance({ a: 0, b: 0 }, {}), null);
  });

  it('percentile takes the nearest rank', () => {
    assert.equal(percentile([5, 1, 3, 2, 4], 50), 3);
    assert.equal(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        99,
      ),
      99,
    );
    assert.ok(Number.isNaN(percentile([], 50)));
  });
});

// A made-up run: 1 pod until 10 s, scaled to 5 at 10 s (ready at 11 s), counted 12–20 s, the oldest
// pod killed at 20 s, scaled down at 30 s, the end at 40 s.
const strategy = (name: string) => STRATEGIES.find((s) => s.name === name)!;
function recordingOf(records: StrategyRecord[]): Recording {
  const readyAt = { '10.0.0.1': 500, '10.0.0.2': 11_000, '10.0.0.3': 11_000, '10.0.0.4': 11_100, '10.0.0.5': 11_200 };
  const fleet = { readyAt, scaledAt: 10_000, podsAfterRollout: PODS };
  return {
    phases: [
      { name: 'before scaling', from: 0, to: 10_000 },
      { name: 'scaled up', from: 12_000, to: 20_000 },
      { name: 'pod killed', from: 20_000, to: 30_000 },
      { name: 'scaled down', from: 30_000, to: 40_000 },
    ],
    events: [],
    fleets: { plain: fleet, aged: fleet },
    direct: { p50: 0.5, p99: 1.5 },
    strategies: records,
  };
}
/** A call every 100 ms from `from` to `to`, to `pods` in turn. */
const calls = (from: number, to: number, pods: string[]): Array<[number, string]> =>
  Array.from({ length: Math.floor((to - from) / 100) }, (_, i) => [from + i * 100, pods[i % pods.length] as string]);

describe('the verdict per strategy', () => {
  it('a balanced strategy: every pod, even, no call lost while scaling down, its figures', () => {
    const [result] = summarize(
      recordingOf([
        {
          strategy: strategy('mesh'),
          replies: [...calls(0, 11_050, ['10.0.0.1']), ...calls(11_050, 40_000, PODS)],
          failures: [20_010],
          latency: { p50: 0.9, p99: 2.0 },
          cost: { cpuMs: 120, rssMiB: 60 },
        },
      ]),
    );
    assert.equal(result?.ok, true);
    assert.equal(result?.podsReached, 5);
    assert.equal(result?.jain, 1);
    assert.deepEqual(result?.failed, { kill: 1, scaleDown: 0 });
    assert.deepEqual(result?.addedMs, { p50: 0.4, p99: 0.5 });
    assert.equal(result?.share?.['10.0.0.3'], 0.2);
    assert.ok(result?.firstCallMs && result.firstCallMs.max < 500);
  });

  it('an every-pod strategy that loses calls while scaling down, or misses a pod, gets a ✗', () => {
    const lost = summarize(
      recordingOf([{ strategy: strategy('edge'), replies: calls(0, 40_000, PODS), failures: [31_000, 31_100] }]),
    )[0];
    assert.equal(lost?.ok, false);
    assert.match(lost?.notes[0] ?? '', /2 calls lost while scaling down/);
    const missed = summarize(
      recordingOf([{ strategy: strategy('xds'), replies: calls(0, 40_000, PODS.slice(0, 4)), failures: [] }]),
    )[0];
    assert.equal(missed?.ok, false);
    assert.equal(missed?.podsReached, 4);
  });

  it('l4 and dns must stay on their first pod: a spread is a ✗ for them', () => {
    const stuck = summarize(
      recordingOf([{ strategy: strategy('l4'), replies: calls(0, 40_000, ['10.0.0.1']), failures: [] }]),
    )[0];
    assert.equal(stuck?.ok, true);
    assert.equal(stuck?.jain, 0.2);
    assert.equal(stuck?.firstCallMs, null);
    const spread = summarize(
      recordingOf([{ strategy: strategy('dns'), replies: calls(0, 40_000, PODS), failures: [] }]),
    )[0];
    assert.equal(spread?.ok, false);
    // dns on one pod, but an added one: it did learn of the new pods
    const moved = summarize(
      recordingOf([
        {
          strategy: strategy('dns'),
          replies: [...calls(0, 12_000, ['10.0.0.1']), ...calls(12_000, 40_000, ['10.0.0.4'])],
          failures: [],
        },
      ]),
    )[0];
    assert.equal(moved?.podsReached, 1);
    assert.equal(moved?.ok, false);
  });

  it('+age strategies must reach an added pod; one reached only after the kill does not count', () => {
    const aged = summarize(
      recordingOf([
        {
          strategy: strategy('dns+age'),
          replies: [...calls(0, 15_000, ['10.0.0.1']), ...calls(15_000, 40_000, PODS)],
          failures: [],
        },
      ]),
    )[0];
    assert.equal(aged?.ok, true);
    const late = summarize(
      recordingOf([
        {
          strategy: strategy('l4+age'),
          replies: [...calls(0, 20_000, ['10.0.0.1']), ...calls(20_000, 40_000, ['10.0.0.3'])],
          failures: [],
        },
      ]),
    )[0];
    assert.equal(late?.ok, false);
    assert.equal(late?.firstCallMs, null);
  });

  it('a strategy that could not run has null figures and says why', () => {
    const [result] = summarize(
      recordingOf([{ strategy: strategy('edge'), unavailable: 'nginx is not installed', replies: [], failures: [] }]),
    );
    assert.equal(result?.ok, null);
    assert.equal(result?.podsReached, null);
    assert.deepEqual(result?.notes, ['nginx is not installed']);
  });
});
