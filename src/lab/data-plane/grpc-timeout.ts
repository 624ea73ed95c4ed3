// The grpc-timeout request header: how long the caller will wait, as at most 8 digits and a unit
// (H, M, S, m, u, n: hours to nanoseconds), per gRPC over HTTP/2.
const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };
/** Node's timers hold at most 2^31−1 ms (about 24.8 days); a longer deadline is no deadline for the mesh. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Milliseconds the caller allows, or undefined when the header is absent, malformed or beyond a timer's range. */
export function grpcTimeoutMs(header: string | string[] | undefined): number | undefined {
  const match = typeof header === 'string' ? /^(\d{1,8})([HMSmun])$/.exec(header) : null;
  if (!match) return undefined;
  const ms = Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  return ms <= MAX_TIMER_MS ? ms : undefined;
}
