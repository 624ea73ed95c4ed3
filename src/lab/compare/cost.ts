// What a strategy's processes cost: CPU time used and peak memory, read from Linux's /proc for a
// process and its children (nginx's master and workers). undefined where there is no /proc.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

let clockTicks: number | undefined;
const ticksPerSecond = () =>
  (clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100);

/** /proc/PID/stat's fields after the command name (which sits in parentheses and may hold spaces). */
function statFields(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ');
  } catch {
    return undefined; // gone
  }
}

/** `pid` and every process below it. */
function family(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = Number(statFields(Number(entry))?.[1]);
    parents.set(parent, [...(parents.get(parent) ?? []), Number(entry)]);
  }
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...(parents.get(all[i] as number) ?? []));
  return all;
}

export interface Cost {
  cpuMs: number;
  /** the sum of each process's peak resident memory (VmHWM) */
  rssMiB: number;
}

/** CPU time so far (user + system) and peak memory of `pid` and its children; undefined without /proc. */
export function costOf(pid: number | undefined): Cost | undefined {
  if (pid === undefined || !existsSync(`/proc/${pid}/stat`)) return undefined;
  let ticks = 0;
  let kib = 0;
  for (const member of family(pid)) {
    const fields = statFields(member);
    if (!fields) continue;
    ticks += Number(fields[11]) + Number(fields[12]);
    try {
      kib += Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${member}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return { cpuMs: Math.round((ticks / ticksPerSecond()) * 1000), rssMiB: Math.round(kib / 1024) };
}
