// The loop both clients share: make calls — one at a time, --interval apart, or --rate a second on a
// fixed schedule — and report each as it ends, in the order the calls started, until --count replies
// are in or the stop comes. An error never ends the loop. On the stop, calls in flight are cancelled
// and not reported; calls that ended before it are.
import { setTimeout as sleep } from 'node:timers/promises';
import { errorText } from '../common/cli.js';
import { onShutdown } from '../common/shutdown.js';
import type { LoopOptions } from './call-options.js';
import { CallOrder } from './call-order.js';
import { reportLine, type Ask, type EndedCall, type Outcome } from './outcome.js';
import { callsDue, dueAt, inFlightBound } from './schedule.js';

/** Microsecond precision is plenty, and keeps the JSON short. */
const micro = (ms: number) => Math.round(ms * 1000) / 1000;

/** Runs calls until `stop` aborts or --count replies are reported; `write` gets each line. */
export async function callInALoop(
  ask: Ask,
  options: LoopOptions,
  stop: AbortSignal,
  write: (line: string) => void,
): Promise<void> {
  const finished = new AbortController();
  const signal = AbortSignal.any([stop, finished.signal]);
  const order = new CallOrder((call, reply) => write(reportLine(call, reply, options.output)), options.count);
  const ended = (n: number, call: EndedCall | null) => {
    order.end(n, call);
    if (order.complete) finished.abort();
  };

  const call = async (n: number): Promise<void> => {
    const begin = performance.now();
    let outcome: Outcome;
    try {
      outcome = await ask(signal);
    } catch (error) {
      outcome = { code: 'UNKNOWN', error: errorText(error) };
    }
    const ms = performance.now() - begin;
    ended(n, signal.aborted ? null : { n, t: micro(performance.timeOrigin + begin), ms: micro(ms), outcome });
  };

  if ('intervalMs' in options.pace) {
    for (let n = 1; !signal.aborted; n += 1) {
      await call(n);
      if (signal.aborted) break;
      await sleep(options.pace.intervalMs, undefined, { signal }).catch(() => undefined);
    }
    return;
  }

  const { perSecond } = options.pace;
  const bound = inFlightBound(perSecond, options.deadlineMs);
  const inFlight = new Set<Promise<void>>();
  const first = performance.now();
  for (let started = 0; !signal.aborted;) {
    const due = callsDue(performance.now() - first, perSecond);
    for (; started < due && !signal.aborted; started += 1) {
      const n = started + 1;
      if (inFlight.size >= bound) {
        const error = `RESOURCE_EXHAUSTED: not sent: ${inFlight.size} calls still in flight, the most --rate ${perSecond} with --deadline-ms ${options.deadlineMs} allows`;
        ended(n, {
          n,
          t: micro(performance.timeOrigin + performance.now()),
          ms: 0,
          outcome: { code: 'RESOURCE_EXHAUSTED', error },
        });
        continue;
      }
      const running: Promise<void> = call(n).finally(() => inFlight.delete(running));
      inFlight.add(running);
    }
    const wait = first + dueAt(started, perSecond) - performance.now();
    await sleep(Math.max(0, wait), undefined, { signal }).catch(() => undefined);
  }
  await Promise.all(inFlight);
}

/** For the entry files: calls until SIGINT/SIGTERM (or stdin closing, for a client the lab runs), or
 *  until --count replies; the lines go to stdout. */
export async function callUntilStopped(ask: Ask, options: LoopOptions): Promise<void> {
  const stop = new AbortController();
  onShutdown(() => stop.abort(), options.stdinLifeline);
  await callInALoop(ask, options, stop.signal, (line) => process.stdout.write(`${line}\n`));
  if (options.stdinLifeline) process.stdin.destroy();
}
