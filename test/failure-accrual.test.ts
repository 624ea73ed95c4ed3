// Failure accrual (Linkerd's "consecutive" breaker) in-process, with a clock the test moves; and the
// Service annotations that turn it on, read as Linkerd's policy controller reads them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ACCRUAL_ANNOTATIONS as A,
  accrualFromAnnotations,
  LINKERD_ACCRUAL_DEFAULTS,
  parseDurationMs,
  requestTimeoutFromAnnotations,
} from '../src/lab/data-plane/linkerd-annotations.js';
import { FailureAccrual, type AccrualPolicy } from '../src/lab/data-plane/failure-accrual.js';

const ip = '10.1.0.9';

function accrual(random = 0, policy: Partial<AccrualPolicy> = {}) {
  let t = 0;
  const breaker = new FailureAccrual(
    { ...LINKERD_ACCRUAL_DEFAULTS, ...policy },
    { now: () => t, random: () => random },
  );
  return { breaker, advance: (ms: number) => (t += ms) };
}

/** Sends a request and records its outcome; returns what changed. */
function call(breaker: FailureAccrual, outcome: 'success' | 'failure') {
  breaker.sent(ip);
  return breaker.record(ip, outcome);
}

/** Shuts the endpoint with 7 failures (the default). */
function trip(breaker: FailureAccrual) {
  for (let i = 0; i < 6; i++) call(breaker, 'failure');
  return call(breaker, 'failure');
}

describe('failure accrual', () => {
  it('shuts an endpoint after 7 failures in a row, not after 6', () => {
    const { breaker } = accrual();
    for (let i = 0; i < 6; i++) assert.equal(call(breaker, 'failure'), undefined);
    assert.equal(breaker.available(ip), true);
    assert.deepEqual(call(breaker, 'failure'), { state: 'tripped', forMs: 1000, cause: 'failures', failures: 7 });
    assert.equal(breaker.available(ip), false);
  });

  it('starts counting again after a success', () => {
    const { breaker } = accrual();
    for (let i = 0; i < 6; i++) call(breaker, 'failure');
    call(breaker, 'success');
    for (let i = 0; i < 6; i++) call(breaker, 'failure');
    assert.equal(breaker.available(ip), true);
  });

  it('never shuts with max-failures 0 (the count is compared with ==, so it never matches)', () => {
    const { breaker } = accrual(0, { maxFailures: 0 });
    for (let i = 0; i < 100; i++) assert.equal(call(breaker, 'failure'), undefined);
    assert.equal(breaker.available(ip), true);
  });

  it('lets one request through after the penalty; the next response decides, and a success opens it', () => {
    const { breaker, advance } = accrual();
    trip(breaker);
    advance(999);
    assert.equal(breaker.available(ip), false);
    advance(1);
    assert.equal(breaker.available(ip), true, 'on probation');
    breaker.sent(ip);
    assert.equal(breaker.available(ip), false, 'one request at a time');
    assert.deepEqual(breaker.record(ip, 'success'), { state: 'recovered' });
    assert.equal(breaker.available(ip), true);
    for (let i = 0; i < 6; i++) call(breaker, 'failure');
    assert.equal(breaker.available(ip), true, 'open again, counting from 0');
  });

  it('ignores the responses that arrive while shut', () => {
    const { breaker, advance } = accrual();
    trip(breaker);
    assert.equal(breaker.record(ip, 'success'), undefined, 'a straggler does not end the penalty');
    advance(500);
    assert.equal(breaker.record(ip, 'failure'), undefined);
    assert.equal(breaker.available(ip), false);
  });

  it('doubles the penalty after each failed probe, up to a minute', () => {
    const { breaker, advance } = accrual();
    trip(breaker);
    const penalties = [];
    for (let i = 0; i < 8; i++) {
      advance(60_000);
      const change = call(breaker, 'failure');
      penalties.push(change?.state === 'tripped' ? change.forMs : NaN);
    }
    assert.deepEqual(penalties, [2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  });

  it('adds up to half the penalty at random (jitter ratio 0.5), never past the maximum', () => {
    assert.equal(accrual(1).breaker.penaltyMs(0), 1500);
    assert.equal(accrual(1).breaker.penaltyMs(5), 48_000);
    assert.equal(accrual(1).breaker.penaltyMs(6), 60_000, '32 s × 2 = 64 s is capped at 60 s, the jitter too');
  });

  it('keeps an endpoint out while its probe has no answer (a probe whose caller left is never classified)', () => {
    const { breaker, advance } = accrual();
    trip(breaker);
    advance(1000);
    breaker.sent(ip); // the probe: its caller gives up before any answer, so no record() follows
    advance(600_000);
    assert.equal(breaker.available(ip), false, 'no permit left on probation');
    assert.deepEqual(breaker.record(ip, 'success'), { state: 'recovered' }, 'the next response still decides');
  });

  it('tells when the next shut endpoint goes on probation, and forgets an endpoint that left', () => {
    const { breaker } = accrual();
    assert.equal(breaker.nextProbation(), undefined);
    trip(breaker);
    assert.equal(breaker.nextProbation(), 1000);
    breaker.forget(ip);
    assert.equal(breaker.available(ip), true);
    assert.equal(breaker.nextProbation(), undefined);
  });
});

describe("failure accrual from the Service's annotations (Linkerd's policy controller)", () => {
  const on = { [A.mode]: 'consecutive' };

  it('is off without the failure-accrual annotation, whatever else is there', () => {
    assert.deepEqual(accrualFromAnnotations(undefined), { policy: undefined });
    assert.deepEqual(accrualFromAnnotations({}), { policy: undefined });
    assert.deepEqual(accrualFromAnnotations({ [A.maxFailures]: '3' }), { policy: undefined });
  });

  it("takes Linkerd's defaults for what is not given: 7, 1s, 1m, 0.5", () => {
    assert.deepEqual(accrualFromAnnotations(on), { policy: LINKERD_ACCRUAL_DEFAULTS });
  });

  it('reads each annotation', () => {
    const { policy } = accrualFromAnnotations({
      ...on,
      [A.maxFailures]: ' 3 ',
      [A.minPenalty]: '250ms',
      [A.maxPenalty]: '2m',
      [A.jitterRatio]: '0',
    });
    assert.deepEqual(policy, { maxFailures: 3, minPenaltyMs: 250, maxPenaltyMs: 120_000, jitterRatio: 0 });
  });

  // Any bad value turns the whole policy off (the controller logs a warning and sends none).
  const refused: Array<[string, Record<string, string>, RegExp]> = [
    ['an unknown mode', { [A.mode]: 'sometimes' }, /unsupported failure accrual mode: sometimes/],
    ['the unified mode, which the lab does not model', { [A.mode]: 'unified' }, /"unified".*not modelled/],
    ['max-failures negative', { ...on, [A.maxFailures]: '-1' }, /invalid digit/],
    ['max-failures fractional', { ...on, [A.maxFailures]: '7.5' }, /invalid digit/],
    ['max-failures beyond u32', { ...on, [A.maxFailures]: '4294967296' }, /too large/],
    [
      'a duration without a unit',
      { ...on, [A.minPenalty]: '5' },
      /missing duration unit; did you mean '5s' or '5ms'\?/,
    ],
    ['a fractional duration', { ...on, [A.minPenalty]: '0.5s' }, /fractional values not supported/],
    ['a negative duration', { ...on, [A.maxPenalty]: '-1m' }, /cannot be negative/],
    ['an unknown unit', { ...on, [A.maxPenalty]: '1w' }, /invalid duration unit w/],
    ['min above max', { ...on, [A.minPenalty]: '2m', [A.maxPenalty]: '1m' }, /cannot exceed max_penalty/],
    ['a zero max', { ...on, [A.minPenalty]: '0', [A.maxPenalty]: '0s' }, /max_penalty cannot be zero/],
    ['jitter negative', { ...on, [A.jitterRatio]: '-0.1' }, /jitter cannot be negative/],
    ['jitter above 100', { ...on, [A.jitterRatio]: '101' }, /greater than 100/],
    ['jitter NaN', { ...on, [A.jitterRatio]: 'NaN' }, /jitter cannot be negative/],
    ['jitter not a number', { ...on, [A.jitterRatio]: 'half' }, /invalid float literal/],
  ];
  for (const [what, annotations, why] of refused) {
    it(`is off, with a warning, for ${what}`, () => {
      const { policy, warning } = accrualFromAnnotations(annotations);
      assert.equal(policy, undefined);
      assert.match(warning ?? '', why);
    });
  }

  it("parses durations as the controller does: ms, s, m, h, d, '0' alone, a '+'", () => {
    assert.deepEqual(
      ['10ms', '10s', '5m', '2h', '1d', '0', '0s', '+5s', ' 3s\t'].map(parseDurationMs),
      [10, 10_000, 300_000, 7_200_000, 86_400_000, 0, 0, 5000, 3000],
    );
    assert.throws(() => parseDurationMs('1h30m'), /invalid digit/);
    assert.throws(() => parseDurationMs(''), /does not contain a timeout duration value/);
    assert.throws(() => parseDurationMs('99999999999999999999d'), /too large|overflows/);
  });

  it('accepts the float forms Rust does for the jitter ratio', () => {
    for (const [text, value] of [
      ['.5', 0.5],
      ['5.', 5],
      ['+1e1', 10],
      ['-0', -0], // as Rust: -0.0, which is not negative
    ] as const) {
      assert.equal(accrualFromAnnotations({ ...on, [A.jitterRatio]: text }).policy?.jitterRatio, value, text);
    }
  });
});

describe("the route request timeout from the Service's annotations", () => {
  it('reads timeout.linkerd.io/request as the controller does: none when absent, 0 or bad (with a warning)', () => {
    const t = (value?: string) =>
      requestTimeoutFromAnnotations(value === undefined ? {} : { 'timeout.linkerd.io/request': value });
    assert.deepEqual(t(), { timeoutMs: undefined });
    assert.deepEqual(t('500ms'), { timeoutMs: 500 });
    assert.deepEqual(t('0'), { timeoutMs: undefined });
    assert.equal(t('1.5s').timeoutMs, undefined);
    assert.match(t('1.5s').warning ?? '', /fractional/);
  });
});
