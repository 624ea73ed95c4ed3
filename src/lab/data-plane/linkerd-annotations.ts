// The Linkerd annotations a Service carries for its clients' proxies, read as Linkerd's policy controller
// reads them (linkerd2 policy-controller/k8s/index/src/outbound/index.rs): failure accrual and the route
// request timeout. Failure accrual (parse_accrual_config l.2024-2098, parse_consecutive_params
// l.2102-2143, parse_duration l.2322-2358):
//   - no `balancer.linkerd.io/failure-accrual`: no failure accrual;
//   - `consecutive`: the four `…-consecutive-*` annotations, each defaulted when absent (7 failures,
//     1s, 1m, jitter 0.5);
//   - any other mode, or any value that does not parse or check, is an error, and the controller logs a
//     warning and sends no failure accrual at all (`.unwrap_or_default()` at l.228-230) — one bad
//     annotation turns the whole policy off, not just that value.
// Linkerd's newer "unified" mode (consecutive + a success-rate window, not in the 2.19 docs) is not
// modelled here: it is refused like an unknown mode, with a warning that says so.
import type { AccrualPolicy } from './failure-accrual.js';

export const ACCRUAL_ANNOTATIONS = {
  mode: 'balancer.linkerd.io/failure-accrual',
  maxFailures: 'balancer.linkerd.io/failure-accrual-consecutive-max-failures',
  maxPenalty: 'balancer.linkerd.io/failure-accrual-consecutive-max-penalty',
  minPenalty: 'balancer.linkerd.io/failure-accrual-consecutive-min-penalty',
  jitterRatio: 'balancer.linkerd.io/failure-accrual-consecutive-jitter-ratio',
} as const;

/** Linkerd's defaults for the consecutive mode (index.rs:2105-2126; docs: reference/circuit-breaking). */
export const LINKERD_ACCRUAL_DEFAULTS: AccrualPolicy = {
  maxFailures: 7,
  minPenaltyMs: 1000,
  maxPenaltyMs: 60_000,
  jitterRatio: 0.5,
};

export interface AccrualAnnotations {
  /** The policy, or undefined: no failure accrual. */
  policy: AccrualPolicy | undefined;
  /** Why the annotations were refused (Linkerd logs it and runs without failure accrual). */
  warning?: string;
}

export function accrualFromAnnotations(annotations: Readonly<Record<string, string>> | undefined): AccrualAnnotations {
  const mode = annotations?.[ACCRUAL_ANNOTATIONS.mode];
  if (annotations === undefined || mode === undefined) return { policy: undefined };
  try {
    if (mode === 'unified') {
      throw new Error(
        'failure accrual mode "unified" (consecutive failures and a success rate) is not modelled by the lab',
      );
    }
    if (mode !== 'consecutive') throw new Error(`unsupported failure accrual mode: ${mode}`);
    return { policy: consecutiveParams(annotations) };
  } catch (error) {
    return { policy: undefined, warning: `Failed to parse accrual config: ${(error as Error).message}` };
  }
}

function consecutiveParams(annotations: Readonly<Record<string, string>>): AccrualPolicy {
  const value = (key: string) => annotations[key];
  const maxFailures =
    optional(value(ACCRUAL_ANNOTATIONS.maxFailures), parseU32) ?? LINKERD_ACCRUAL_DEFAULTS.maxFailures;
  const maxPenaltyMs =
    optional(value(ACCRUAL_ANNOTATIONS.maxPenalty), parseDurationMs) ?? LINKERD_ACCRUAL_DEFAULTS.maxPenaltyMs;
  const minPenaltyMs =
    optional(value(ACCRUAL_ANNOTATIONS.minPenalty), parseDurationMs) ?? LINKERD_ACCRUAL_DEFAULTS.minPenaltyMs;
  const jitterRatio =
    optional(value(ACCRUAL_ANNOTATIONS.jitterRatio), parseF32) ?? LINKERD_ACCRUAL_DEFAULTS.jitterRatio;
  if (!(minPenaltyMs <= maxPenaltyMs))
    throw new Error(`min_penalty (${minPenaltyMs}ms) cannot exceed max_penalty (${maxPenaltyMs}ms)`);
  if (!(maxPenaltyMs > 0)) throw new Error('max_penalty cannot be zero');
  if (!(jitterRatio >= 0)) throw new Error('jitter cannot be negative');
  if (!(jitterRatio <= 100)) throw new Error('jitter cannot be greater than 100');
  return { maxFailures, minPenaltyMs, maxPenaltyMs, jitterRatio };
}

function optional<T>(text: string | undefined, parse: (text: string) => T): T | undefined {
  return text === undefined ? undefined : parse(text);
}

/** Rust's str::trim: Unicode White_Space at both ends (not the BOM, which JavaScript's trim() also removes). */
function rustTrim(text: string): string {
  return text.replace(RUST_EDGE_WHITESPACE, '');
}
const RUST_WHITESPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const RUST_EDGE_WHITESPACE = new RegExp(`^[${RUST_WHITESPACE}]+|[${RUST_WHITESPACE}]+$`, 'gu');

/** `s.trim().parse::<u32>()`: an optional '+', ASCII digits, at most 4294967295. */
function parseU32(text: string): number {
  const trimmed = rustTrim(text);
  if (!/^\+?[0-9]+$/u.test(trimmed)) throw new Error(`invalid digit found in string: '${trimmed}'`);
  const value = Number(trimmed);
  if (value > 0xffff_ffff) throw new Error('number too large to fit in target type');
  return value;
}

/** `s.trim().parse::<f32>()`: Rust's float grammar (inf, infinity and nan included), to single precision. */
function parseF32(text: string): number {
  const trimmed = rustTrim(text);
  const match = /^([+-]?)(?:(inf|infinity)|(nan)|((?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?))$/iu.exec(trimmed);
  if (!match) throw new Error(`invalid float literal: '${trimmed}'`);
  const sign = match[1] === '-' ? -1 : 1;
  if (match[2]) return sign * Infinity;
  if (match[3]) return NaN;
  return Math.fround(sign * Number(match[4]));
}

const UNIT_MS: Record<string, bigint> = { ms: 1n, s: 1000n, m: 60_000n, h: 3_600_000n, d: 86_400_000n };
const U64_MAX = 2n ** 64n - 1n;

/** The policy controller's parse_duration: whole numbers with ms, s, m, h or d ("0" alone is zero), in ms. */
export function parseDurationMs(text: string): number {
  const s = rustTrim(text);
  if (s.startsWith('-')) throw new Error(`duration value cannot be negative: '${s}'`);
  const lastDigit = s.search(/[0-9][^0-9]*$/u);
  if (lastDigit < 0) throw new Error(`${s} does not contain a timeout duration value`);
  const [magnitude, unit] = [s.slice(0, lastDigit + 1), s.slice(lastDigit + 1)];
  if (magnitude.includes('.')) throw new Error('fractional values not supported');
  if (!/^\+?[0-9]+$/u.test(magnitude)) throw new Error(`invalid digit found in string: '${magnitude}'`);
  const value = BigInt(magnitude.replace('+', ''));
  if (value > U64_MAX) throw new Error('number too large to fit in target type');
  let perUnit: bigint;
  if (unit === '' && value === 0n) perUnit = 0n;
  else if (unit === '') throw new Error(`missing duration unit; did you mean '${value}s' or '${value}ms'?`);
  else if (UNIT_MS[unit] !== undefined) perUnit = UNIT_MS[unit];
  else throw new Error(`invalid duration unit ${unit} (expected one of 'ms', 's', 'm', 'h', or 'd')`);
  const ms = value * perUnit;
  if (ms > U64_MAX) throw new Error(`Timeout value ${s} overflows when converted to 'ms'`);
  return Number(ms);
}

/** The route request timeout a Service may carry (linkerd2 policy-controller index.rs parse_timeouts, l.2236-2256). */
export const REQUEST_TIMEOUT_ANNOTATION = 'timeout.linkerd.io/request';

/**
 * The Service's request timeout in ms, or undefined: none, or a value that does not parse (the controller
 * then warns and sends no timeouts at all: `.unwrap_or_default()`, index.rs:291-293). A timeout of 0 is none.
 */
export function requestTimeoutFromAnnotations(annotations: Readonly<Record<string, string>> | undefined): {
  timeoutMs: number | undefined;
  warning?: string;
} {
  const text = annotations?.[REQUEST_TIMEOUT_ANNOTATION];
  if (text === undefined) return { timeoutMs: undefined };
  try {
    const ms = parseDurationMs(text);
    return { timeoutMs: ms === 0 ? undefined : ms };
  } catch (error) {
    return { timeoutMs: undefined, warning: `Failed to parse timeouts: ${(error as Error).message}` };
  }
}
