// Linkerd's exponential backoff (linkerd2-proxy linkerd/exp-backoff/src/lib.rs:103-136): the n-th wait
// (n from 0) is min × 2^n, at most max, plus up to `jitter` of it at random — never past max. Failure
// accrual's penalties and the reconnects to an endpoint both use it.

export interface Backoff {
  minMs: number;
  maxMs: number;
  jitter: number;
}

export function backoffMs(n: number, { minMs, maxMs, jitter }: Backoff, random: () => number): number {
  const base = minMs === 0 ? 0 : Math.min(minMs * 2 ** n, maxMs);
  return base + (jitter === 0 ? 0 : Math.min(base * random() * jitter, maxMs - base));
}
