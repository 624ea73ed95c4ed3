// How the mesh proxy picks a pod for each request.
//   round-robin: each ready pod in turn — the lab's default, an even spread every time.
//   p2c-ewma: Linkerd's way (tower's PeakEwma) — of two pods picked at random, the one with the lower
//   cost, where cost is a peak-sensitive moving average of its latency (decaying over 10 s) times its
//   requests in flight + 1. A pod not yet measured starts at 30 ms, as Linkerd's proxy does: starting
//   at 0 would make a new pod the cheapest of all until its first reply, so it would draw every call.
import type { Endpoint } from './endpoints.js';

export const BALANCERS = ['round-robin', 'p2c-ewma'] as const;
export type BalancerName = (typeof BALANCERS)[number];

export interface Balancer {
  pick(ready: Endpoint[]): Endpoint | undefined;
  /** Call when a request to `endpoint` starts; call the function it returns when the response ends. */
  started(endpoint: Endpoint): () => void;
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

  pick(ready: Endpoint[]): Endpoint | undefined {
    if (ready.length === 0) return undefined;
    this.#next = (this.#next + 1) % ready.length;
    return ready[this.#next];
  }

  started(): () => void {
    return () => undefined;
  }
}

export const DEFAULT_RTT_MS = 30;
const DECAY_MS = 10_000;

interface Load {
  ewmaMs: number;
  stamp: number;
  pending: number;
}

export class PeakEwma implements Balancer {
  readonly #loads = new Map<string, Load>();
  readonly #sources: Sources;

  constructor(sources: Sources = real) {
    this.#sources = sources;
  }

  pick(ready: Endpoint[]): Endpoint | undefined {
    if (ready.length <= 1) return ready[0];
    const { random } = this.#sources;
    const i = Math.floor(random() * ready.length);
    const j = (i + 1 + Math.floor(random() * (ready.length - 1))) % ready.length;
    const [a, b] = [ready[i] as Endpoint, ready[j] as Endpoint];
    return this.#cost(a) <= this.#cost(b) ? a : b;
  }

  started(endpoint: Endpoint): () => void {
    const load = this.#load(endpoint);
    load.pending += 1;
    const start = this.#sources.now();
    return () => {
      const now = this.#sources.now();
      const rtt = now - start;
      load.pending -= 1;
      // Peak-sensitive: a slower response counts at once; faster ones pull the average down gradually.
      const weight = Math.exp(-(now - load.stamp) / DECAY_MS);
      load.ewmaMs = rtt > load.ewmaMs ? rtt : load.ewmaMs * weight + rtt * (1 - weight);
      load.stamp = now;
    };
  }

  #cost(endpoint: Endpoint): number {
    const load = this.#load(endpoint);
    const decayed = load.ewmaMs * Math.exp(-(this.#sources.now() - load.stamp) / DECAY_MS);
    return decayed * (load.pending + 1);
  }

  #load(endpoint: Endpoint): Load {
    let load = this.#loads.get(endpoint.ip);
    if (!load) {
      load = { ewmaMs: DEFAULT_RTT_MS, stamp: this.#sources.now(), pending: 0 };
      this.#loads.set(endpoint.ip, load);
    }
    return load;
  }
}
