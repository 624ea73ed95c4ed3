// The faults addr-server can play, decided in-process with injected chance: which answers fail, how long
// the others wait, and what HTTP status a failure carries.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { percentile } from '../src/common/statistics.js';
import { Faults, HTTP_STATUS, NO_FAULTS } from '../src/server/faults.js';

/** A seeded generator (mulberry32), so that the figures below are the same on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Hands out the given numbers in turn. */
const sequence =
  (...values: number[]) =>
  () =>
    values.shift() ?? assert.fail('asked for more chance than given');

describe('server faults', () => {
  it('plays none by default, and never draws a number then', () => {
    const faults = new Faults(NO_FAULTS, () => assert.fail('drew a number'));
    assert.equal(faults.any, false);
    assert.equal(faults.fails(), false);
    assert.equal(faults.delayMs(), 0);
  });

  it('fails an answer when the draw falls under --fail-percent', () => {
    const faults = new Faults({ ...NO_FAULTS, failPercent: 20 }, sequence(0.1999, 0.2, 0.95));
    assert.equal(faults.any, true);
    assert.deepEqual([faults.fails(), faults.fails(), faults.fails()], [true, false, false]);
  });

  it('fails every answer at 100 %, even on the highest draw', () => {
    const faults = new Faults({ ...NO_FAULTS, failPercent: 100 }, sequence(0.9999999));
    assert.equal(faults.fails(), true);
  });

  it('fails about the share asked for', () => {
    const faults = new Faults({ ...NO_FAULTS, failPercent: 0.5 }, seeded(7));
    let failed = 0;
    for (let i = 0; i < 100_000; i++) if (faults.fails()) failed += 1;
    assert.ok(failed > 400 && failed < 600, `${failed} of 100000 failed at 0.5 %`);
  });

  it('delays by --delay-ms alone without a jitter', () => {
    const faults = new Faults({ ...NO_FAULTS, delayMs: 200 }, () => assert.fail('drew a number'));
    assert.equal(faults.delayMs(), 200);
  });

  it('adds an exponential extra of mean --delay-jitter-ms: the draw 1 − 1/e adds exactly the mean', () => {
    const faults = new Faults({ ...NO_FAULTS, delayMs: 200, delayJitterMs: 50 }, sequence(0, 1 - Math.exp(-1)));
    assert.equal(faults.delayMs(), 200);
    assert.ok(Math.abs(faults.delayMs() - 250) < 1e-9);
  });

  it('gives the delays a long tail: mean delay + jitter, p50 + 0.69×, p99 + 4.6× the jitter', () => {
    const faults = new Faults({ ...NO_FAULTS, delayMs: 100, delayJitterMs: 40 }, seeded(42));
    const delays = Array.from({ length: 200_000 }, () => faults.delayMs());
    const mean = delays.reduce((sum, d) => sum + d, 0) / delays.length;
    const near = (value: number, expected: number, what: string) =>
      assert.ok(Math.abs(value - expected) / expected < 0.03, `${what}: ${value.toFixed(1)}, expected ≈ ${expected}`);
    near(mean, 140, 'mean');
    near(percentile(delays, 50), 100 + 40 * Math.LN2, 'p50');
    near(percentile(delays, 99), 100 + 40 * Math.log(100), 'p99');
    assert.ok(
      delays.every((d) => d >= 100),
      'never less than --delay-ms',
    );
  });

  it("answers HTTP with google.rpc.Code's HTTP mapping", () => {
    // googleapis/googleapis google/rpc/code.proto, the "HTTP Mapping" line of each code
    assert.deepEqual(HTTP_STATUS, {
      CANCELLED: 499,
      UNKNOWN: 500,
      INVALID_ARGUMENT: 400,
      DEADLINE_EXCEEDED: 504,
      NOT_FOUND: 404,
      ALREADY_EXISTS: 409,
      PERMISSION_DENIED: 403,
      UNAUTHENTICATED: 401,
      RESOURCE_EXHAUSTED: 429,
      FAILED_PRECONDITION: 400,
      ABORTED: 409,
      OUT_OF_RANGE: 400,
      UNIMPLEMENTED: 501,
      INTERNAL: 500,
      UNAVAILABLE: 503,
      DATA_LOSS: 500,
    });
  });
});
