// Whether the pod is serving or draining: the one state that /health, the gRPC health service and the
// addr_server_serving gauge all read, so that they can never disagree.
export class DrainState {
  #serving = true;
  readonly #listeners: Array<() => void> = [];

  /** true until the drain begins (SIGTERM), then false for good */
  get serving(): boolean {
    return this.#serving;
  }

  /** Begins the drain (once): health turns not-serving everywhere. */
  begin(): void {
    if (!this.#serving) return;
    this.#serving = false;
    for (const listener of this.#listeners) listener();
  }

  /** For what must be told rather than ask (the gRPC health service, which pushes to its watchers). */
  onBegin(listener: () => void): void {
    this.#listeners.push(listener);
  }
}
