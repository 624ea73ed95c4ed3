// The mesh's balancers in-process, with time and chance injected: every pick is determined.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DECAY_MS, DEFAULT_RTT_MS, PeakEwma, RoundRobin, type Sources } from '../src/lab/data-plane/balancer.js';
import type { Endpoint } from '../src/lab/data-plane/endpoints.js';

const pod = (ip: string): Endpoint => ({ ip, address: '127.0.0.1', httpPort: 0, grpcPort: 0 });
const [a, b, c] = [pod('10.1.0.8'), pod('10.1.0.9'), pod('10.1.0.10')];

/** A clock the test moves, and a random source that replays `values` in a loop. */
function sources(values = [0.5]): Sources & { advance(ms: number): void } {
  let t = 0;
  let i = 0;
  return {
    now: () => t,
    random: () => values[i++ % values.length] as number,
    advance: (ms) => (t += ms),
  };
}

/** Records a response from `endpoint` that took `ms`. */
function measure(balancer: PeakEwma, clock: ReturnType<typeof sources>, endpoint: Endpoint, ms: number): void {
  const finished = balancer.started(endpoint);
  clock.advance(ms);
  finished();
}

/**
 * Brings each endpoint's estimate to its latency: a first measurement only nudges the 30 ms start (the
 * average moves on a 10 s scale), so measure, let a minute pass, and measure again.
 */
function settle(balancer: PeakEwma, clock: ReturnType<typeof sources>, latencies: Array<[Endpoint, number]>): void {
  for (const [endpoint, ms] of latencies) measure(balancer, clock, endpoint, ms);
  clock.advance(60_000);
  for (const [endpoint, ms] of latencies) measure(balancer, clock, endpoint, ms);
}

const tally = (picks: Array<Endpoint | undefined>) =>
  picks.reduce<Record<string, number>>(
    (counts, e) => ({ ...counts, [e?.ip ?? 'none']: (counts[e?.ip ?? 'none'] ?? 0) + 1 }),
    {},
  );

describe('round-robin', () => {
  it('takes each ready pod in turn, and none when there is none', () => {
    const balancer = new RoundRobin();
    assert.deepEqual(tally(Array.from({ length: 30 }, () => balancer.pick([a, b, c]))), {
      '10.1.0.8': 10,
      '10.1.0.9': 10,
      '10.1.0.10': 10,
    });
    assert.equal(balancer.pick([]), undefined);
  });
});

describe("p2c-ewma (tower's PeakEwma, as in Linkerd)", () => {
  it('starts a pod not yet measured at 30 ms, so a new pod does not draw every call', () => {
    const clock = sources();
    const balancer = new PeakEwma(clock);
    settle(balancer, clock, [[a, 5]]);
    // a: 5 ms, b: never measured. Starting b at 0 would make it the cheaper of the two every time.
    assert.equal(DEFAULT_RTT_MS, 30);
    assert.deepEqual(tally(Array.from({ length: 20 }, () => balancer.pick([a, b]))), { '10.1.0.8': 20 });
  });

  it('tries the new pod once the known one costs more than 30 ms: latency × (requests in flight + 1)', () => {
    const clock = sources();
    const balancer = new PeakEwma(clock);
    settle(balancer, clock, [[a, 5]]);
    for (let i = 0; i < 4; i++) balancer.started(a); // 5 ms × 5 = 25 ms: still cheaper than the new pod
    assert.equal(balancer.pick([a, b]), a);
    balancer.started(a);
    balancer.started(a); // 5 ms × 7 = 35 ms
    assert.equal(balancer.pick([a, b]), b);
  });

  it("picks two distinct pods at random as Linkerd's p2c does, and takes the cheaper one", () => {
    // Linkerd's gen_pair: a from all three, b from the other two (b ≥ a moves up one). Pairs drawn for
    // the random values 0.0/0.0, 0.4/0.6, 0.7/0.0: (0, 1), (1, 2), (2, 0).
    const clock = sources([0.0, 0.0, 0.4, 0.6, 0.7, 0.0]);
    const balancer = new PeakEwma(clock);
    settle(balancer, clock, [
      [a, 1],
      [b, 10],
      [c, 100],
    ]);
    assert.deepEqual([balancer.pick([a, b, c]), balancer.pick([a, b, c]), balancer.pick([a, b, c])], [a, b, a]);
  });

  it('takes a slower response at once (the peak) and lets faster ones pull it down over about 10 s', () => {
    const clock = sources();
    const balancer = new PeakEwma(clock);
    settle(balancer, clock, [
      [a, 5],
      [b, 20],
    ]);
    assert.equal(balancer.pick([a, b]), a);
    measure(balancer, clock, a, 200); // one slow call counts in full at once
    assert.equal(balancer.pick([a, b]), b);
    measure(balancer, clock, a, 5); // a fast one right after barely lowers it
    assert.equal(balancer.pick([a, b]), b);
    clock.advance(30_000);
    measure(balancer, clock, a, 5); // 30 s later: 200 × e^-3 + 5 × (1 − e^-3) ≈ 15 ms
    measure(balancer, clock, b, 20);
    assert.equal(balancer.pick([a, b]), a);
  });

  it('decays toward 0 while idle, and a reading keeps the decayed value (tower: load() stores it)', () => {
    const clock = sources();
    const balancer = new PeakEwma(clock);
    assert.equal(balancer.load(a), DEFAULT_RTT_MS); // never measured, nothing pending: 30 ms × 1
    clock.advance(DECAY_MS);
    const decayed = balancer.load(a);
    assert.ok(Math.abs(decayed - DEFAULT_RTT_MS / Math.E) < 1e-9, `one decay period: 30 / e, got ${decayed}`);
    // A 5 ms sample right after that reading is blended by the time since the reading (5 ms), so it
    // barely moves the estimate; blended by the time since the first estimate (10 s) it would give ~14 ms.
    measure(balancer, clock, a, 5);
    const after = balancer.load(a);
    assert.ok(Math.abs(after - decayed) < 0.02, `${after} ms`);
  });

  it('counts a request as pending until its first response frame, and samples its time then', () => {
    const clock = sources();
    const balancer = new PeakEwma(clock);
    const firstFrame = balancer.started(a);
    assert.equal(balancer.load(a), DEFAULT_RTT_MS * 2, 'one pending: 30 ms × 2');
    clock.advance(500);
    firstFrame(); // a stream's first message after 500 ms: the peak is now 500 ms
    firstFrame(); // once only
    assert.equal(balancer.load(a), 500);
  });

  it('starts a pod that left and came back afresh', () => {
    const clock = sources();
    const balancer = new PeakEwma(clock);
    measure(balancer, clock, a, 900);
    balancer.forget(a.ip);
    assert.equal(balancer.load(a), DEFAULT_RTT_MS);
  });

  it('picks the only pod there is, and none from none', () => {
    const balancer = new PeakEwma(sources());
    assert.equal(balancer.pick([a]), a);
    assert.equal(balancer.pick([]), undefined);
  });
});
