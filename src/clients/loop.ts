// The loop both clients share: ask, print "#N: <ip>" or "Error: ...", wait, again —
// until --count replies arrived or a signal stops it. An error never ends the loop.
import { setTimeout as sleep } from 'node:timers/promises';
import { errorText, kinds, numberOption } from '../common/cli.js';
import { formatFailure, formatReply } from '../common/output.js';
import { onShutdown, stdinLifelineOption } from '../common/shutdown.js';

export interface LoopOptions {
  intervalMs: number;
  /** Stop after this many replies; undefined: until stopped. */
  count: number | undefined;
  stdinLifeline: boolean;
}

/** One request; it must settle when `signal` aborts. Resolves to the IP that answered. */
export type Ask = (signal: AbortSignal) => Promise<string>;

export async function askInALoop(ask: Ask, { intervalMs, count, stdinLifeline }: LoopOptions): Promise<void> {
  const stop = new AbortController();
  onShutdown(() => stop.abort(), stdinLifeline);

  let replies = 0;
  while (!stop.signal.aborted && (count === undefined || replies < count)) {
    try {
      const ip = await ask(stop.signal);
      replies += 1;
      console.log(formatReply(replies, ip));
    } catch (error) {
      if (stop.signal.aborted) break;
      console.log(formatFailure(errorText(error)));
    }
    if (count !== undefined && replies >= count) break;
    await sleep(intervalMs, undefined, { signal: stop.signal }).catch(() => undefined);
  }
  if (stdinLifeline) process.stdin.destroy();
}

export const loopOptions = {
  // At least 10 ms: a client whose calls fail at once must not spin.
  interval: numberOption('interval', { ...kinds.ms, min: 10 }, 'milliseconds between requests', 1000),
  count: numberOption('count', kinds.count, 'stop after this many replies (default: run until Ctrl-C)', undefined),
  ...stdinLifelineOption,
} as const;
