// The one definition of a percentile used by every figure the kit prints (the lab, compare, bench):
// nearest rank — the smallest recorded value with at least p % of the values at or below it. So the
// median of an even number of values is the lower middle one, and every figure is a value that was
// actually measured, never an average of two.

/** The p-th percentile (0 < p <= 100) of `values` by nearest rank; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export const median = (values: readonly number[]): number => percentile(values, 50);

/** How a figure measured in several rounds spread: the median and the range. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  rounds: number;
}

export function spread(values: readonly number[]): Spread {
  return {
    median: median(values),
    // A loop, not Math.min(...values): spreading hundreds of thousands of arguments overflows the stack.
    min: values.reduce((a, b) => Math.min(a, b), values.length ? Infinity : NaN),
    max: values.reduce((a, b) => Math.max(a, b), values.length ? -Infinity : NaN),
    rounds: values.length,
  };
}
