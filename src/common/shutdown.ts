// Every program stops cleanly on SIGINT/SIGTERM: the first signal starts an orderly stop,
// a second one ends the process at once.

import { errorText } from './cli.js';

export type Signal = 'SIGINT' | 'SIGTERM';

/** For processes another program supervises (the lab): stop as on SIGTERM when stdin closes, so that
 *  a child never outlives its parent, even one that was killed. */
export const stdinLifelineOption = {
  'exit-on-stdin-close': { type: 'boolean', default: false, hidden: true, describe: 'stop when standard input closes' },
} as const;

export function onShutdown(stop: (signal: Signal) => void | Promise<void>, stdinLifeline = false): void {
  let stopping = false;
  const handle = (signal: Signal) => {
    if (stopping) {
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    stopping = true;
    void Promise.resolve()
      .then(() => stop(signal))
      .catch((error: unknown) => {
        console.error(`error while stopping: ${errorText(error)}`);
        process.exitCode = 1;
      });
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
  if (stdinLifeline) {
    process.stdin.on('close', () => handle('SIGTERM')).resume();
  }
}
