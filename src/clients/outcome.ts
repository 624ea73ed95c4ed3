// One call as the loop sees it: the function that makes it, how it ended, and the line that reports it
// (the post's "#N: <ip>" / "Error: …", or a CallRecord for --output jsonl).
import { formatCall, formatFailure, formatReply, type CallRecord } from '../common/output.js';
import type { OutputFormat } from './call-options.js';

/** How a call ended: the pod that answered, or the status ('UNAVAILABLE', 'HTTP 503', 'ECONNREFUSED', …)
 *  and the message that says what went wrong. */
export type Outcome = { pod: string } | { code: string; error: string };

/** Makes one call. It resolves (never rejects) with the outcome, and must settle soon after `signal`
 *  aborts (the stop): that outcome is then dropped. */
export type Ask = (signal: AbortSignal) => Promise<Outcome>;

/** A call that ended: its number (from 1, in the order calls started), when it started (ms since the Unix
 *  epoch, with a fraction), how long it took (ms), and how it ended. */
export interface EndedCall {
  n: number;
  t: number;
  ms: number;
  outcome: Outcome;
}

/** `reply`: this call's number among the replies (the N of "#N:"); undefined for a failed call. */
export function reportLine(call: EndedCall, reply: number | undefined, output: OutputFormat): string {
  const { outcome } = call;
  if (output === 'text') return 'pod' in outcome ? formatReply(reply ?? 0, outcome.pod) : formatFailure(outcome.error);
  const record: CallRecord =
    'pod' in outcome
      ? { n: call.n, t: call.t, ms: call.ms, pod: outcome.pod, code: 'OK' }
      : { n: call.n, t: call.t, ms: call.ms, pod: '', code: outcome.code, error: outcome.error };
  return formatCall(record);
}
