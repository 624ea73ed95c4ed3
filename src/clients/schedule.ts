// The open loop's schedule (--rate): call k (from 0) is due k / rate seconds after the first, whatever
// the calls before it are doing — no call waits for another's answer (no coordinated omission).

/** How many calls are due `elapsedMs` after the first one was. */
export const callsDue = (elapsedMs: number, perSecond: number): number =>
  Math.floor((Math.max(0, elapsedMs) * perSecond) / 1000) + 1;

/** When call k (from 0) is due, in ms after the first. */
export const dueAt = (k: number, perSecond: number): number => (k * 1000) / perSecond;

/**
 * The most calls in flight at once. Each ends at its deadline, so at most rate × deadline are, plus the
 * one whose deadline is passing this very millisecond. A due call that finds this many still in flight
 * (the process was stalled past its timers) is reported as not sent rather than piled on.
 */
export const inFlightBound = (perSecond: number, deadlineMs: number): number =>
  Math.ceil((perSecond * deadlineMs) / 1000) + 1;
