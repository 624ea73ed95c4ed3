// Failure accrual (Linkerd's "consecutive" policy) in-process, with a clock the test moves.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FailureAccrual } from '../src/lab/data-plane/failure-accrual.js';

const ip = '10.1.0.9';

function accrual(random = 0) {
  let t = 0;
  const breaker = new FailureAccrual({ now: () => t, random: () => random });
  return { breaker, advance: (ms: number) => (t += ms) };
}

/** Sends a request and records its outcome; returns what changed. */
function call(breaker: FailureAccrual, outcome: 'success' | 'failure' | 'cancelled') {
  return breaker.record(ip, outcome, breaker.sent(ip));
}

describe('failure accrual', () => {
  it('sets an endpoint aside after 7 failures in a row, not after 6', () => {
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

  it('lets one probe through after the penalty; its success brings the endpoint back', () => {
    const { breaker, advance } = accrual();
    breaker.trip(ip);
    advance(999);
    assert.equal(breaker.available(ip), false);
    advance(1);
    assert.equal(breaker.available(ip), true, 'on probation');
    const probe = breaker.sent(ip);
    assert.equal(probe, true);
    assert.equal(breaker.available(ip), false, 'one probe at a time');
    assert.deepEqual(breaker.record(ip, 'success', probe), { state: 'recovered' });
    assert.equal(breaker.available(ip), true);
    assert.equal(breaker.sent(ip), false, 'an ordinary request again');
  });

  it('doubles the penalty after each failed probe, up to a minute', () => {
    const { breaker, advance } = accrual();
    breaker.trip(ip);
    const penalties = [];
    for (let i = 0; i < 8; i++) {
      advance(60_000);
      const change = call(breaker, 'failure');
      penalties.push(change?.state === 'tripped' ? change.forMs : NaN);
    }
    assert.deepEqual(penalties, [2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  });

  it('adds up to half the penalty at random (jitter ratio 0.5)', () => {
    const { breaker } = accrual(1);
    assert.deepEqual(breaker.trip(ip), { state: 'tripped', forMs: 1500, cause: 'silent', failures: 0 });
  });

  it('ignores the outcomes of requests sent before the trip, and takes the next request as the probe when the probe is cancelled', () => {
    const { breaker, advance } = accrual();
    const early = breaker.sent(ip);
    breaker.trip(ip);
    assert.equal(breaker.record(ip, 'success', early), undefined, 'a straggler does not end the penalty');
    assert.equal(breaker.available(ip), false);
    advance(1000);
    assert.equal(call(breaker, 'cancelled'), undefined);
    assert.equal(breaker.available(ip), true, 'the cancelled probe told nothing: another may go');
    assert.equal(breaker.trip(ip), undefined, 'already set aside');
  });

  it('forgets an endpoint that left the Service', () => {
    const { breaker } = accrual();
    breaker.trip(ip);
    breaker.forget(ip);
    assert.equal(breaker.available(ip), true);
  });
});
