// The clients' loop in-process, with asks made up by the test: calls one at a time (--interval) or on a
// schedule (--rate), reported in the order they started, --count, and the stop. No network.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCall } from '../src/common/output.js';
import type { LoopOptions } from '../src/clients/call-options.js';
import { CallOrder } from '../src/clients/call-order.js';
import { callInALoop } from '../src/clients/loop.js';
import type { Ask, EndedCall, Outcome } from '../src/clients/outcome.js';
import { callsDue, dueAt, inFlightBound } from '../src/clients/schedule.js';
import { waitUntil } from './support/wait.js';

const ended = (n: number, outcome: Outcome): EndedCall => ({ n, t: 1_700_000_000_000 + n, ms: 1, outcome });
const ok = (n: number, pod = `10.1.0.${n}`) => ended(n, { pod });
const failed = (n: number) => ended(n, { code: 'UNAVAILABLE', error: 'UNAVAILABLE: gone' });

describe('reporting calls in the order they started', () => {
  it('holds a call that ended early until the ones before it have ended', () => {
    const seen: Array<[number, number | undefined]> = [];
    const order = new CallOrder((call, reply) => seen.push([call.n, reply]), undefined);
    order.end(3, ok(3));
    order.end(2, failed(2));
    assert.deepEqual(seen, []);
    assert.equal(order.waiting, 2);
    order.end(1, ok(1));
    assert.deepEqual(seen, [
      [1, 1],
      [2, undefined],
      [3, 2],
    ]);
    assert.equal(order.waiting, 0);
  });

  it('skips a call cut short by the stop, and numbers the replies without it', () => {
    const seen: Array<[number, number | undefined]> = [];
    const order = new CallOrder((call, reply) => seen.push([call.n, reply]), undefined);
    order.end(2, ok(2));
    order.end(1, null);
    order.end(3, ok(3));
    assert.deepEqual(seen, [
      [2, 1],
      [3, 2],
    ]);
  });

  it('stops at the --count-th reply in call order; failures do not count', () => {
    const seen: number[] = [];
    const order = new CallOrder((call) => seen.push(call.n), 2);
    order.end(4, ok(4));
    order.end(3, ok(3));
    order.end(1, failed(1));
    assert.equal(order.complete, false);
    order.end(2, ok(2));
    assert.deepEqual(seen, [1, 2, 3], 'call 4 ended, but after the second reply: not reported');
    assert.equal(order.complete, true);
  });

  it('refuses a call that ends twice', () => {
    const order = new CallOrder(() => undefined, undefined);
    order.end(1, ok(1));
    assert.throws(() => order.end(1, ok(1)), /ended twice/);
  });
});

describe('the schedule of --rate', () => {
  it('one call at once, then one every 1/rate s, whatever the calls do', () => {
    assert.equal(callsDue(0, 10), 1);
    assert.equal(callsDue(99, 10), 1);
    assert.equal(callsDue(100, 10), 2);
    assert.equal(callsDue(1000, 10), 11);
    assert.equal(callsDue(-5, 10), 1, 'a clock read before the start');
    assert.equal(dueAt(10, 10), 1000);
    assert.equal(dueAt(3, 200), 15);
  });

  it('bounds the calls in flight by rate × deadline (+1 for the one ending at this very moment)', () => {
    assert.equal(inFlightBound(10, 5000), 51);
    assert.equal(inFlightBound(3, 250), 2);
    assert.equal(inFlightBound(1, 1), 2);
  });
});

const options = (overrides: Partial<LoopOptions>): LoopOptions => ({
  pace: { intervalMs: 10 },
  count: undefined,
  deadlineMs: 5000,
  output: 'text',
  stdinLifeline: false,
  ...overrides,
});

/** An ask whose calls the test ends: each call's resolve, kept in start order; a call ends CANCELLED on the stop. */
function heldAsk() {
  const calls: Array<{ resolve: (outcome: Outcome) => void; signal: AbortSignal }> = [];
  let inFlight = 0;
  let most = 0;
  const ask: Ask = (signal) =>
    new Promise<Outcome>((resolve) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      let settledOnce = false;
      const settle = (outcome: Outcome) => {
        if (settledOnce) return;
        settledOnce = true;
        inFlight -= 1;
        resolve(outcome);
      };
      calls.push({ resolve: settle, signal });
      signal.addEventListener('abort', () => settle({ code: 'CANCELLED', error: 'CANCELLED: stopped' }), {
        once: true,
      });
    });
  return { ask, calls, inFlight: () => inFlight, most: () => most };
}

/** Lets the loop take in what the test just resolved. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('the loop', () => {
  it('--interval: one call in flight at a time, "#N:" for the N-th reply, an error line for a failure', async () => {
    const lines: string[] = [];
    let inFlight = 0;
    let most = 0;
    let n = 0;
    const ask: Ask = async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 2));
      inFlight -= 1;
      n += 1;
      return n === 2 ? { code: 'UNAVAILABLE', error: 'UNAVAILABLE: no pod' } : { pod: `10.1.0.${n}` };
    };
    await callInALoop(ask, options({ count: 3 }), AbortSignal.timeout(5000), (line) => lines.push(line));
    assert.deepEqual(lines, ['#1: 10.1.0.1', 'Error: UNAVAILABLE: no pod', '#2: 10.1.0.3', '#3: 10.1.0.4']);
    assert.equal(most, 1);
  });

  it('--rate: calls keep starting while earlier ones wait (an open loop), and end in call order', async () => {
    const lines: string[] = [];
    const held = heldAsk();
    const stop = new AbortController();
    const loop = callInALoop(held.ask, options({ pace: { perSecond: 200 } }), stop.signal, (line) => lines.push(line));
    try {
      await waitUntil('5 calls in flight', () => held.inFlight() >= 5);
      // the later calls answer first: nothing can be printed before the first call ends
      for (const [i, call] of held.calls.slice(0, 5).entries()) if (i > 0) call.resolve({ pod: `10.1.0.${i + 1}` });
      await settled();
      assert.deepEqual(lines, []);
      held.calls[0]?.resolve({ pod: '10.1.0.1' });
      await settled();
      assert.deepEqual(lines, ['#1: 10.1.0.1', '#2: 10.1.0.2', '#3: 10.1.0.3', '#4: 10.1.0.4', '#5: 10.1.0.5']);
    } finally {
      stop.abort();
      await loop;
    }
    assert.ok(
      held.calls.slice(5).every(({ signal }) => signal.aborted),
      'the calls in flight at the stop are cancelled',
    );
    assert.equal(held.inFlight(), 0);
    assert.equal(lines.length, 5, 'a call cut short by the stop is not reported');
  });

  it('--rate --count N: stops at the N-th reply, cancels the calls started after it', async () => {
    const lines: string[] = [];
    const held = heldAsk();
    const bound = AbortSignal.timeout(5000); // should --count fail to end the loop
    const loop = callInALoop(held.ask, options({ pace: { perSecond: 200 }, count: 2 }), bound, (line) =>
      lines.push(line),
    );
    await waitUntil('4 calls in flight', () => held.inFlight() >= 4);
    held.calls[3]?.resolve({ pod: '10.1.0.4' });
    held.calls[1]?.resolve({ pod: '10.1.0.2' });
    held.calls[0]?.resolve({ pod: '10.1.0.1' });
    await loop;
    assert.equal(bound.aborted, false, '--count ended the loop');
    assert.deepEqual(lines, ['#1: 10.1.0.1', '#2: 10.1.0.2']);
    assert.ok(held.calls[2]?.signal.aborted, 'call 3, in flight, is cancelled');
  });

  it('--output jsonl: a CallRecord per call, in call order, from which latency and success can be computed', async () => {
    const lines: string[] = [];
    let n = 0;
    const ask: Ask = async () => {
      n += 1;
      const mine = n;
      await new Promise((resolve) => setTimeout(resolve, mine === 1 ? 30 : 1));
      return mine === 3 ? { code: 'DEADLINE_EXCEEDED', error: 'DEADLINE_EXCEEDED: late' } : { pod: '10.1.0.8' };
    };
    const before = Date.now();
    await callInALoop(
      ask,
      options({ pace: { perSecond: 500 }, count: 4, output: 'jsonl' }),
      AbortSignal.timeout(5000),
      (line) => lines.push(line),
    );
    const records = lines.map((line) => parseCall(line));
    assert.ok(
      records.every((record) => record !== undefined),
      lines.join('\n'),
    );
    assert.deepEqual(
      records.map((record) => [record?.n, record?.code, record?.pod, record?.error]),
      [
        [1, 'OK', '10.1.0.8', undefined],
        [2, 'OK', '10.1.0.8', undefined],
        [3, 'DEADLINE_EXCEEDED', '', 'DEADLINE_EXCEEDED: late'],
        [4, 'OK', '10.1.0.8', undefined],
        [5, 'OK', '10.1.0.8', undefined],
      ],
    );
    for (const record of records) {
      assert.ok(record && record.t >= before - 1 && record.t <= Date.now() + 1, `t is a time: ${record?.t}`);
      assert.ok(record && record.ms >= 0, `ms is a duration: ${record?.ms}`);
    }
    assert.ok((records[0]?.ms ?? 0) >= 25, `the first call took 30 ms, its record says ${records[0]?.ms}`);
    const starts = records.map((record) => record?.t ?? 0);
    assert.deepEqual(
      starts,
      [...starts].sort((a, b) => a - b),
      'started in order',
    );
  });

  it('an ask that throws is reported as a failed call, and the loop goes on', async () => {
    const lines: string[] = [];
    let n = 0;
    const ask: Ask = async () => {
      n += 1;
      if (n === 1) throw new Error('boom');
      return { pod: '10.1.0.8' };
    };
    await callInALoop(ask, options({ count: 1, output: 'jsonl' }), AbortSignal.timeout(5000), (line) =>
      lines.push(line),
    );
    assert.deepEqual(
      lines.map((line) => [parseCall(line)?.code, parseCall(line)?.error]),
      [
        ['UNKNOWN', 'boom'],
        ['OK', undefined],
      ],
    );
  });
});
