// How many descriptors a process may open, and raising its soft limit to the hard one. Every connection
// the lab holds is a descriptor (two for one through the Service), and a process at its limit refuses
// every new connection, its API and dashboard included. Node has no setrlimit; it raises its own soft
// limit to the hard one as it starts (src/node.cc, PlatformInit: "Raise the open file descriptor
// limit"), so this finds nothing to do unless the limit was lowered since (by `prlimit --pid`, or an
// embedder that starts Node without adjusting limits). Then it runs util-linux's prlimit on itself.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface OpenFileLimit {
  /** Infinity for "unlimited". */
  soft: number;
  hard: number;
}

export interface OpenFiles {
  before: OpenFileLimit | undefined;
  after: OpenFileLimit | undefined;
  raised: boolean;
  /** What to tell the user, in one line. */
  line: string;
}

/** The "Max open files" row of /proc/PID/limits. */
export function parseOpenFileLimit(limits: string): OpenFileLimit | undefined {
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)\s/mu.exec(limits);
  if (!match) return undefined;
  const value = (text: string | undefined) => (text === 'unlimited' ? Infinity : Number(text));
  return { soft: value(match[1]), hard: value(match[2]) };
}

export function readOpenFileLimit(pid: number = process.pid): OpenFileLimit | undefined {
  try {
    return parseOpenFileLimit(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  } catch {
    return undefined; // no /proc (macOS)
  }
}

const shown = (n: number) => (n === Infinity ? 'unlimited' : String(n));

/** Raises this process's soft limit on open files to its hard limit, when it is below; says what it found. */
export function raiseOpenFileLimit(prlimit = 'prlimit', pid: number = process.pid): OpenFiles {
  const before = readOpenFileLimit(pid);
  if (!before) return { before, after: before, raised: false, line: 'open files: limit unknown (no /proc here)' };
  if (before.soft >= before.hard) {
    return { before, after: before, raised: false, line: `open files: at most ${shown(before.soft)} (the hard limit)` };
  }
  const hard = shown(before.hard);
  try {
    execFileSync(prlimit, ['--pid', String(pid), `--nofile=${hard}:${hard}`], { stdio: 'pipe', timeout: 5000 });
  } catch (error) {
    const why =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? `${prlimit} not found (util-linux)`
        : (String((error as { stderr?: unknown }).stderr ?? '').trim() || (error as Error).message).split('\n')[0];
    return {
      before,
      after: before,
      raised: false,
      line: `open files: at most ${shown(before.soft)} of a hard limit of ${hard}; could not raise it: ${why}`,
    };
  }
  const after = readOpenFileLimit(pid);
  const raised = after !== undefined && after.soft > before.soft;
  return {
    before,
    after,
    raised,
    line: raised
      ? `open files: at most ${shown(after.soft)} (raised from ${shown(before.soft)} to the hard limit)`
      : `open files: at most ${shown(before.soft)} of a hard limit of ${hard}; prlimit did not raise it`,
  };
}
