// Failure accrual, Linkerd's endpoint-level circuit breaking: after `maxFailures` failures in a row an
// endpoint is unavailable for a penalty (1 s at first), then on probation — it may take one request,
// the probe. A probe that succeeds makes it available again; one that fails sends it back for twice
// the penalty, up to `maxPenaltyMs`, with up to `jitterRatio` of it added at random. Defaults are
// Linkerd's "consecutive" policy's: 7 failures, 1 s, 1 min, 0.5.
// (https://linkerd.io/2/reference/circuit-breaking/)

export interface AccrualOptions {
  maxFailures: number;
  minPenaltyMs: number;
  maxPenaltyMs: number;
  jitterRatio: number;
  now: () => number;
  random: () => number;
}

const LINKERD_DEFAULTS: AccrualOptions = {
  maxFailures: 7,
  minPenaltyMs: 1000,
  maxPenaltyMs: 60_000,
  jitterRatio: 0.5,
  now: () => performance.now(),
  random: Math.random,
};

/** What an outcome changed: the endpoint went out of the balancer (for `forMs`), or came back. */
export type Change =
  | { state: 'tripped'; forMs: number; cause: 'failures' | 'probe' | 'silent'; failures: number }
  | { state: 'recovered' };

interface State {
  failures: number;
  /** Unavailable until this time; 0 when available. */
  until: number;
  /** The penalty of the last trip: the next failed probe doubles it. */
  penaltyMs: number;
  probing: boolean;
}

export class FailureAccrual {
  readonly #options: AccrualOptions;
  readonly #states = new Map<string, State>();

  constructor(options: Partial<AccrualOptions> = {}) {
    this.#options = { ...LINKERD_DEFAULTS, ...options };
  }

  /** Whether a request may go to this endpoint now: it is available, or on probation with no probe out. */
  available(ip: string): boolean {
    const state = this.#states.get(ip);
    return !state || state.until === 0 || (!state.probing && this.#options.now() >= state.until);
  }

  /** Call when a request goes to `ip`. True when it is the probe: pass that on to the outcome. */
  sent(ip: string): boolean {
    const state = this.#states.get(ip);
    if (!state || state.until === 0) return false;
    state.probing = true;
    return true;
  }

  /**
   * The outcome of a request sent to `ip`, and what it changed. Outcomes of requests sent before a trip
   * that end after it change nothing: only the probe decides. A cancelled probe (the caller gave up
   * first) tells nothing, so the next request is the probe.
   */
  record(ip: string, outcome: 'success' | 'failure' | 'cancelled', probe: boolean): Change | undefined {
    const state = this.#states.get(ip);
    const tripped = state !== undefined && state.until !== 0;
    if (tripped && !probe) return undefined;
    if (outcome === 'success') {
      this.#states.delete(ip);
      return tripped ? { state: 'recovered' } : undefined;
    }
    if (outcome === 'cancelled') {
      if (state) state.probing = false;
      return undefined;
    }
    if (state && tripped) return this.#trip(state, Math.min(this.#options.maxPenaltyMs, state.penaltyMs * 2), 'probe');
    const counted = this.#state(ip);
    counted.failures += 1;
    return counted.failures >= this.#options.maxFailures
      ? this.#trip(counted, this.#options.minPenaltyMs, 'failures')
      : undefined;
  }

  /** Makes `ip` unavailable at once (its connection went silent): no need to wait for failures to accrue. */
  trip(ip: string): Change | undefined {
    const state = this.#state(ip);
    return state.until === 0 ? this.#trip(state, this.#options.minPenaltyMs, 'silent') : undefined;
  }

  /** The endpoint left the Service: its record goes too. */
  forget(ip: string): void {
    this.#states.delete(ip);
  }

  #state(ip: string): State {
    let state = this.#states.get(ip);
    if (!state) {
      state = { failures: 0, until: 0, penaltyMs: 0, probing: false };
      this.#states.set(ip, state);
    }
    return state;
  }

  #trip(state: State, penaltyMs: number, cause: 'failures' | 'probe' | 'silent'): Change {
    const forMs = penaltyMs * (1 + this.#options.jitterRatio * this.#options.random());
    state.penaltyMs = penaltyMs;
    state.until = this.#options.now() + forMs;
    state.probing = false;
    return { state: 'tripped', forMs, cause, failures: state.failures };
  }
}
