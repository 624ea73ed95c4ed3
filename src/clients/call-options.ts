// The options both clients take for their calls — when to call, how many, how long each may take, how
// to report them — and what they come to once parsed: the loop's settings.
import { kinds, numberOption, UsageError, type NumberKind } from '../common/cli.js';
import { stdinLifelineOption } from '../common/shutdown.js';

/** When calls start: one at a time, `intervalMs` after the previous one ended (a closed loop), or
 *  `perSecond` calls a second on a fixed schedule, however long the answers take (an open loop). */
export type Pace = { intervalMs: number } | { perSecond: number };

export type OutputFormat = 'text' | 'jsonl';

export interface LoopOptions {
  pace: Pace;
  /** Stop after this many replies (in the order calls started); undefined: until stopped. */
  count: number | undefined;
  /** Each call's own deadline. */
  deadlineMs: number;
  output: OutputFormat;
  stdinLifeline: boolean;
}

export const DEFAULT_INTERVAL_MS = 1000;

/** More than one Node.js process can start: the bound keeps rate × deadline (the calls in flight) sane. */
const callsPerSecond: NumberKind = { min: 1, max: 10_000, noun: 'a whole number of calls per second' };

export const callOptions = {
  // At least 10 ms: a client whose calls fail at once must not spin.
  interval: numberOption(
    'interval',
    { ...kinds.ms, min: 10 },
    `milliseconds from the end of one call to the start of the next: one call in flight at a time ` +
      `(default: ${DEFAULT_INTERVAL_MS}; not with --rate)`,
    undefined,
  ),
  rate: numberOption(
    'rate',
    callsPerSecond,
    'start this many calls a second on a fixed schedule, however long the answers take (an open loop, as ' +
      'h2load --rps does): a slow pod piles up calls in flight, which a least-loaded or EWMA balancer can ' +
      'see. Each call has its own deadline, so at most rate × deadline are in flight. Lines come in the ' +
      'order calls started (not with --interval)',
    undefined,
  ),
  count: numberOption(
    'count',
    kinds.count,
    'stop after this many replies (default: run until stopped). With --rate, at the N-th reply in the order ' +
      'calls started; the calls started after it are cancelled and not reported',
    undefined,
  ),
  'deadline-ms': numberOption('deadline-ms', kinds.positiveMs, 'deadline of each call', 5000),
  output: {
    choices: ['text', 'jsonl'] as const,
    default: 'text' as OutputFormat,
    describe:
      'text: "#N: <ip>" for the N-th reply, "Error: <message>" for a failed call. jsonl: a JSON object ' +
      'per call: n (its number, from 1, in the order calls started), t (its start, ms since the epoch), ' +
      'ms (its latency), pod (the IP that answered, or ""), code ("OK", or the status: UNAVAILABLE, ' +
      'DEADLINE_EXCEEDED, …; HTTP 503, ECONNREFUSED, TIMEOUT, … for client-http) and error (the message)',
  },
  ...stdinLifelineOption,
} as const;

/** The loop's settings from parsed callOptions values (keys as on the command line). */
export function loopOptionsOf(values: Record<string, unknown>): LoopOptions {
  const interval = values.interval as number | undefined;
  const rate = values.rate as number | undefined;
  if (interval !== undefined && rate !== undefined) {
    throw new UsageError(
      '--interval and --rate exclude each other: --interval waits for each answer before the next call, ' +
        '--rate starts calls on a schedule',
    );
  }
  return {
    pace: rate !== undefined ? { perSecond: rate } : { intervalMs: interval ?? DEFAULT_INTERVAL_MS },
    count: values.count as number | undefined,
    deadlineMs: values['deadline-ms'] as number,
    output: values.output as OutputFormat,
    stdinLifeline: values['exit-on-stdin-close'] === true,
  };
}
