// Faults the server can play, so that a balancer can be watched meeting a bad pod that is still Ready
// (its health checks keep passing): a slow pod (a fixed delay plus a random extra with a long tail) and
// a pod that fails fast (a share of answers fail at once with a chosen status, as when its dependency
// is down). Off by default. The chance is injected, so the choices are testable without timers.
import { MAX_TIMER_MS } from '../common/cli.js';

/** The gRPC status codes a failing answer may carry (OK is no failure), by name, with their numbers. */
export const FAIL_CODES = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type FailCode = keyof typeof FAIL_CODES;

/**
 * The HTTP status a /addr answer carries for each code: the "HTTP Mapping" lines of google.rpc.Code
 * (googleapis/googleapis, google/rpc/code.proto), which gRPC-HTTP transcoding gateways also follow.
 */
export const HTTP_STATUS: Record<FailCode, number> = {
  CANCELLED: 499,
  UNKNOWN: 500,
  INVALID_ARGUMENT: 400,
  DEADLINE_EXCEEDED: 504,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PERMISSION_DENIED: 403,
  RESOURCE_EXHAUSTED: 429,
  FAILED_PRECONDITION: 400,
  ABORTED: 409,
  OUT_OF_RANGE: 400,
  UNIMPLEMENTED: 501,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DATA_LOSS: 500,
  UNAUTHENTICATED: 401,
};

export interface FaultOptions {
  /** every answer waits this long… */
  delayMs: number;
  /** …plus an exponentially distributed extra with this mean (0: none) */
  delayJitterMs: number;
  /** this share of answers (0–100) fail at once, with failCode */
  failPercent: number;
  failCode: FailCode;
}

export const NO_FAULTS: FaultOptions = { delayMs: 0, delayJitterMs: 0, failPercent: 0, failCode: 'UNAVAILABLE' };

export class Faults {
  readonly options: FaultOptions;
  readonly #random: () => number;

  /** `random` returns a number in [0, 1), as Math.random does. */
  constructor(options: FaultOptions, random: () => number = Math.random) {
    this.options = options;
    this.#random = random;
  }

  /** Whether any fault is on: with none, the answers take the direct path. */
  get any(): boolean {
    const { delayMs, delayJitterMs, failPercent } = this.options;
    return delayMs > 0 || delayJitterMs > 0 || failPercent > 0;
  }

  /** Whether this answer fails (at once, with options.failCode). */
  fails(): boolean {
    return this.options.failPercent > 0 && this.#random() * 100 < this.options.failPercent;
  }

  /**
   * How long this answer waits, in ms: delayMs plus, with a jitter, an exponentially distributed extra
   * of mean delayJitterMs (inverse transform sampling). An exponential tail, not a uniform band: most
   * answers come near delayMs and a few much later (p50 +0.69×, p99 +4.6×, p99.9 +6.9× the mean), the
   * rare slow answers that set a pod's p99 and that a peak-EWMA balancer reacts to.
   */
  delayMs(): number {
    const { delayMs, delayJitterMs } = this.options;
    if (delayJitterMs === 0) return delayMs;
    return Math.min(MAX_TIMER_MS, delayMs - delayJitterMs * Math.log(1 - this.#random()));
  }
}
