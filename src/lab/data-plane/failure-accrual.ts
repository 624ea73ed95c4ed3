// Failure accrual, Linkerd's per-endpoint circuit breaker in its "consecutive" mode, as linkerd2-proxy
// runs it (linkerd/app/outbound/src/http/breaker/consecutive_failures.rs):
//   - open: every classified response counts; `maxFailures` failures in a row (a success resets the
//     count) shut the endpoint. With maxFailures 0 the count never matches, so it never shuts (`==`, l.59).
//   - shut: unavailable for a backoff; responses that arrive meanwhile are ignored (l.79-87).
//   - probation: one request may go (the gate's single permit, forgotten once used: linkerd/stack/src/
//     gate.rs:241-245), and the next classified response decides — a success opens the endpoint, a
//     failure shuts it for the next, doubled backoff (l.89-95, 98-105). A probe that gets no response
//     at all (its caller gave up first: a dropped response is never classified) leaves the endpoint in
//     probation with no permit, out of the balancer until a response arrives or the endpoint leaves.
// The penalties follow Linkerd's exponential backoff (backoff.ts).
// The policy comes from the Service's annotations (see linkerd-annotations.ts); without them there is
// no failure accrual at all (linkerd/app/outbound/src/http/breaker.rs:44-49).

import { backoffMs } from './backoff.js';

export interface AccrualPolicy {
  maxFailures: number;
  minPenaltyMs: number;
  maxPenaltyMs: number;
  jitterRatio: number;
}

/** Where the breaker gets time and chance from: injected in tests, the real ones otherwise. */
export interface AccrualSources {
  now: () => number;
  random: () => number;
}

const real: AccrualSources = { now: () => performance.now(), random: Math.random };

export type Outcome = 'success' | 'failure';

/** What an outcome changed: the endpoint was shut (for `forMs`), or opened again. */
export type Change =
  { state: 'tripped'; cause: 'failures' | 'probe'; forMs: number; failures: number } | { state: 'recovered' };

type State =
  | { kind: 'open'; failures: number }
  | { kind: 'shut'; until: number; backoffs: number }
  | { kind: 'probation'; permits: number; backoffs: number };

export class FailureAccrual {
  readonly #policy: AccrualPolicy;
  readonly #sources: AccrualSources;
  readonly #states = new Map<string, State>();

  constructor(policy: AccrualPolicy, sources: AccrualSources = real) {
    this.#policy = policy;
    this.#sources = sources;
  }

  /** Whether a request may go to this endpoint now: it is open, or on probation with its permit unused. */
  available(ip: string): boolean {
    const state = this.#current(ip);
    return state === undefined || state.kind === 'open' || (state.kind === 'probation' && state.permits > 0);
  }

  /** Call when a request goes to `ip`: on probation it takes the one permit. */
  sent(ip: string): void {
    const state = this.#current(ip);
    if (state?.kind === 'probation') state.permits = Math.max(0, state.permits - 1);
  }

  /** A classified response from `ip`, and what it changed. */
  record(ip: string, outcome: Outcome): Change | undefined {
    const state = this.#current(ip) ?? { kind: 'open', failures: 0 };
    switch (state.kind) {
      case 'open':
        if (outcome === 'success') {
          this.#states.delete(ip);
          return undefined;
        }
        state.failures += 1;
        this.#states.set(ip, state);
        return state.failures === this.#policy.maxFailures ? this.#shut(ip, 0, 'failures', state.failures) : undefined;
      case 'shut':
        return undefined;
      case 'probation':
        if (outcome === 'success') {
          this.#states.delete(ip);
          return { state: 'recovered' };
        }
        return this.#shut(ip, state.backoffs, 'probe', 0);
    }
  }

  /** When the next shut endpoint goes on probation (a request waiting for one may then go), if any. */
  nextProbation(): number | undefined {
    let next: number | undefined;
    for (const state of this.#states.values())
      if (state.kind === 'shut' && (next === undefined || state.until < next)) next = state.until;
    return next;
  }

  /** The endpoint left the Service: its breaker goes with it. */
  forget(ip: string): void {
    this.#states.delete(ip);
  }

  /** The state now: a shut endpoint whose backoff is over is on probation. */
  #current(ip: string): State | undefined {
    const state = this.#states.get(ip);
    if (state?.kind !== 'shut' || this.#sources.now() < state.until) return state;
    const probation: State = { kind: 'probation', permits: 1, backoffs: state.backoffs };
    this.#states.set(ip, probation);
    return probation;
  }

  #shut(ip: string, backoffs: number, cause: 'failures' | 'probe', failures: number): Change {
    const forMs = this.penaltyMs(backoffs);
    this.#states.set(ip, { kind: 'shut', until: this.#sources.now() + forMs, backoffs: backoffs + 1 });
    return { state: 'tripped', cause, forMs, failures };
  }

  /** The n-th backoff of an episode (n from 0). */
  penaltyMs(n: number): number {
    const { minPenaltyMs, maxPenaltyMs, jitterRatio } = this.#policy;
    return backoffMs(n, { minMs: minPenaltyMs, maxMs: maxPenaltyMs, jitter: jitterRatio }, this.#sources.random);
  }
}
