// How a controller reacts to changes: the keys of the objects to reconcile, each reconciled once however
// many events named it meanwhile, after the current task (so that a burst of watch events is one pass).
// A reconcile that throws (a conflict with another writer, an object gone meanwhile) is tried again a
// little later, as client-go's rate-limited work queue does, and never stops the controller.

export class WorkQueue {
  readonly #dirty = new Set<string>();
  readonly #retries = new Map<string, NodeJS.Timeout>();
  #scheduled: NodeJS.Immediate | undefined;
  #stopped = false;

  constructor(
    private readonly reconcile: (key: string) => void,
    private readonly onError: (key: string, error: unknown) => void = () => undefined,
    private readonly retryMs = 50,
  ) {}

  add(key: string): void {
    if (this.#stopped) return;
    this.#dirty.add(key);
    this.#scheduled ??= setImmediate(() => this.#drain());
  }

  stop(): void {
    this.#stopped = true;
    if (this.#scheduled) clearImmediate(this.#scheduled);
    for (const timer of this.#retries.values()) clearTimeout(timer);
    this.#retries.clear();
    this.#dirty.clear();
  }

  #drain(): void {
    this.#scheduled = undefined;
    const keys = [...this.#dirty];
    this.#dirty.clear();
    for (const key of keys) {
      if (this.#stopped) return;
      try {
        this.reconcile(key);
      } catch (error) {
        this.onError(key, error);
        if (!this.#retries.has(key)) {
          const timer = setTimeout(() => {
            this.#retries.delete(key);
            this.add(key);
          }, this.retryMs);
          timer.unref();
          this.#retries.set(key, timer);
        }
      }
    }
  }
}

/** namespace/name, the key of a namespaced object. */
export const keyOf = (namespace: string | undefined, name: string): string => `${namespace ?? ''}/${name}`;

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
