// Calls that overlap (--rate) end in any order. They are reported in the order they started, so that
// "#N:" numbers the replies in call order and a reader sees the calls one after another; a call that
// ended early waits, at most until the calls before it reach their deadlines.
import type { EndedCall } from './outcome.js';

export class CallOrder {
  #next = 1;
  /** Calls that ended before an earlier one; null: cut short by the stop, never reported. */
  readonly #ended = new Map<number, EndedCall | null>();
  #replies = 0;

  constructor(
    private readonly report: (call: EndedCall, reply: number | undefined) => void,
    /** Stop reporting after this many replies; undefined: never. */
    private readonly count: number | undefined,
  ) {}

  /** Call `n` ended (null: it was cut short by the stop and has nothing to report). Reports it, and any
   *  later calls that were waiting for it, unless --count is reached first. */
  end(n: number, call: EndedCall | null): void {
    if (n < this.#next || this.#ended.has(n)) throw new Error(`call ${n} ended twice`);
    this.#ended.set(n, call);
    for (let next = this.#ended.get(this.#next); next !== undefined && !this.complete;) {
      this.#ended.delete(this.#next);
      this.#next += 1;
      if (next !== null) {
        const reply = 'pod' in next.outcome ? (this.#replies += 1) : undefined;
        this.report(next, reply);
      }
      next = this.#ended.get(this.#next);
    }
  }

  /** --count replies are reported: nothing more will be. */
  get complete(): boolean {
    return this.count !== undefined && this.#replies >= this.count;
  }

  /** Calls that ended and wait for an earlier one. */
  get waiting(): number {
    return this.#ended.size;
  }
}
