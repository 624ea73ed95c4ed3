// Every program stops cleanly on SIGINT/SIGTERM: the first signal starts an orderly stop,
// a second one ends the process at once.

export type Signal = 'SIGINT' | 'SIGTERM';

export function onShutdown(stop: (signal: Signal) => void | Promise<void>): void {
  let stopping = false;
  const handle = (signal: Signal) => {
    if (stopping) {
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    stopping = true;
    void Promise.resolve()
      .then(() => stop(signal))
      .catch((error: unknown) => {
        console.error(`error while stopping: ${error instanceof Error ? error.message : String(error)}`);
        process.exitCode = 1;
      });
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}
