// How the mesh picks a pod for each request, among the endpoints ready to take one.
//   round-robin: each ready pod in turn. Not Linkerd's (Linkerd balances HTTP only with p2c); the lab's
//   plain L7 balancer, an even spread every time.
//   p2c-ewma: Linkerd's balancer, tower's PeakEwma under power-of-two-choices, as linkerd2-proxy runs it.
//   Of two distinct ready pods drawn at random, the one with the lower cost; cost = a peak-sensitive
//   moving average of its round-trip time × (requests pending on it + 1). A request stops being
//   pending, and its round-trip time is sampled, when the first frame of its response body arrives
//   (or at once for a response that ends with its headers, or when it fails or is dropped): for a
//   gRPC stream that is its first message, not its end.
import type { Endpoint } from './endpoints.js';

export const BALANCERS = ['round-robin', 'p2c-ewma'] as const;
export type BalancerName = (typeof BALANCERS)[number];

export interface Balancer {
  pick(ready: readonly Endpoint[]): Endpoint | undefined;
  /** A request went to `endpoint`: it is pending until the function returned is called (once). */
  started(endpoint: Endpoint): () => void;
  /** The endpoint left the Service: a pod that comes back under its IP starts afresh, as in Linkerd. */
  forget(ip: string): void;
}

/** Where the balancers get chance and time from: injected in tests, the real ones otherwise. */
export interface Sources {
  random: () => number;
  now: () => number;
}

const real: Sources = { random: Math.random, now: () => performance.now() };

export function balancer(name: BalancerName, sources: Sources = real): Balancer {
  return name === 'p2c-ewma' ? new PeakEwma(sources) : new RoundRobin();
}

export class RoundRobin implements Balancer {
  #next = 0;

  pick(ready: readonly Endpoint[]): Endpoint | undefined {
    if (ready.length === 0) return undefined;
    this.#next = (this.#next + 1) % ready.length;
    return ready[this.#next];
  }

  started(): () => void {
    return nothing;
  }

  forget(): void {}
}

const nothing = () => undefined;

/**
 * The round-trip time a pod not yet measured starts at: Linkerd's policy controller sends 30 ms
 * (linkerd2 policy-controller/grpc/src/outbound.rs:820, BALANCER_DEFAULT_RTT), and the proxy floors it at
 * 1 ms (linkerd2-proxy linkerd/proxy/balance/src/lib.rs:38, MIN_DEFAULT_RTT). Starting at 0 would make a
 * new pod the cheapest of all until its first reply, so it would draw every call.
 */
export const DEFAULT_RTT_MS = 30;
/** How fast the estimate forgets: linkerd2 policy-controller/grpc/src/outbound.rs:821, BALANCER_RTT_DECAY. */
export const DECAY_MS = 10_000;
const MIN_DEFAULT_RTT_MS = 1;

/** tower's RttEstimate (tower/src/load/peak_ewma.rs:228-279), in milliseconds, with the pending count beside it. */
class Estimate {
  rttMs: number;
  updatedAt: number;
  pending = 0;

  constructor(rttMs: number, now: number) {
    this.rttMs = rttMs;
    this.updatedAt = now;
  }

  /**
   * A sample slower than the estimate replaces it (the peak); a faster one pulls it toward itself by
   * 1 − e^(−elapsed/decay), elapsed being the time since the estimate last changed — which includes
   * every load() read, since tower's load() decays the estimate toward 0 and stores the result.
   */
  update(sampleMs: number, now: number, decayMs: number): number {
    if (this.rttMs < sampleMs) {
      this.rttMs = sampleMs;
    } else {
      const decay = Math.exp(-Math.max(0, now - this.updatedAt) / decayMs);
      this.rttMs = this.rttMs * decay + sampleMs * (1 - decay);
    }
    this.updatedAt = now;
    return this.rttMs;
  }
}

export interface PeakEwmaOptions {
  defaultRttMs: number;
  decayMs: number;
}

export class PeakEwma implements Balancer {
  readonly #estimates = new Map<string, Estimate>();
  readonly #sources: Sources;
  readonly #defaultRttMs: number;
  readonly #decayMs: number;

  constructor(sources: Sources = real, options: Partial<PeakEwmaOptions> = {}) {
    this.#sources = sources;
    this.#defaultRttMs = Math.max(MIN_DEFAULT_RTT_MS, options.defaultRttMs ?? DEFAULT_RTT_MS);
    this.#decayMs = options.decayMs ?? DECAY_MS;
  }

  /**
   * Linkerd's p2c (linkerd2-proxy linkerd/pool/p2c/src/lib.rs:90-129): none from none, the only one from
   * one, else two distinct indices — the second drawn from the others — and the first on a tie.
   */
  pick(ready: readonly Endpoint[]): Endpoint | undefined {
    if (ready.length <= 1) return ready[0];
    const { random } = this.#sources;
    const a = Math.floor(random() * ready.length);
    let b = Math.floor(random() * (ready.length - 1));
    if (b >= a) b += 1;
    const [first, second] = [ready[a] as Endpoint, ready[b] as Endpoint];
    return this.load(first) <= this.load(second) ? first : second;
  }

  started(endpoint: Endpoint): () => void {
    const estimate = this.#estimate(endpoint.ip);
    estimate.pending += 1;
    const sentAt = this.#sources.now();
    let released = false;
    // tower's Handle: dropping it records the round-trip time (peak_ewma.rs:287-295).
    return () => {
      if (released) return;
      released = true;
      estimate.pending -= 1;
      const now = this.#sources.now();
      estimate.update(now - sentAt, now, this.#decayMs);
    };
  }

  forget(ip: string): void {
    this.#estimates.delete(ip);
  }

  /** tower's load(): the estimate decayed to now (and kept so), × (pending + 1) (peak_ewma.rs:137-152). */
  load(endpoint: Endpoint): number {
    const estimate = this.#estimate(endpoint.ip);
    const now = this.#sources.now();
    return estimate.update(0, now, this.#decayMs) * (estimate.pending + 1);
  }

  #estimate(ip: string): Estimate {
    let estimate = this.#estimates.get(ip);
    if (!estimate) {
      estimate = new Estimate(this.#defaultRttMs, this.#sources.now());
      this.#estimates.set(ip, estimate);
    }
    return estimate;
  }
}
