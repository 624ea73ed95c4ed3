// How long this process's event loop could not run: a timer that ticks every `resolutionMs` adds up how
// late each tick came. A PING whose answer sat unread in the socket while the loop was busy elsewhere
// (a flood of dashboard scrapes, a long GC) is no sign of a dead pod; the keepalive asks this meter how
// much of its wait the loop was actually free to read the answer.

export interface Clock {
  now(): number;
}

export class LoopStalls {
  readonly #resolutionMs: number;
  readonly #clock: Clock;
  /** Stalled milliseconds since start, up to the last tick. */
  #total = 0;
  #lastTick: number;
  readonly #timer: NodeJS.Timeout;

  constructor(resolutionMs = 100, clock: Clock = performance) {
    this.#resolutionMs = resolutionMs;
    this.#clock = clock;
    this.#lastTick = clock.now();
    this.#timer = setInterval(() => this.tick(), resolutionMs).unref();
  }

  /** Counts the lateness of the tick due now; the timer calls it, tests may too. */
  tick(): void {
    const now = this.#clock.now();
    this.#total += Math.max(0, now - this.#lastTick - this.#resolutionMs);
    this.#lastTick = now;
  }

  /** A reading to compare a later one with. */
  mark(): number {
    return this.#stalledUntilNow();
  }

  /** Milliseconds the loop was stalled since `mark` (a stall still going on, as far as it has gone, included). */
  since(mark: number): number {
    return Math.max(0, this.#stalledUntilNow() - mark);
  }

  /** How far off a reading can be: a stall shorter than one tick can go unseen. */
  get resolutionMs(): number {
    return this.#resolutionMs;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #stalledUntilNow(): number {
    return this.#total + Math.max(0, this.#clock.now() - this.#lastTick - this.#resolutionMs);
  }
}
