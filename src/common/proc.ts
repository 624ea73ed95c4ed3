// What a process costs, read from Linux's /proc: CPU time used so far and memory (resident now, and its
// peak), for one process or a process and its children (nginx's master and workers). Where there is no
// /proc (macOS), the answers are undefined and the figures say so.
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

/** A /proc/PID/status line in kB (VmRSS, VmHWM), in MiB; undefined when it cannot be read. */
function statusMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const kib = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib === undefined ? undefined : Number(kib) / 1024;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) the process has used so far, in milliseconds (NaN when it cannot be read). */
export function cpuMs(pid: number): number {
  const fields = statFields(pid);
  return fields ? ((Number(fields[11]) + Number(fields[12])) / ticksPerSecond()) * 1000 : NaN;
}

/** Peak resident set size so far (VmHWM), in MiB. */
export const peakRssMiB = (pid: number): number => statusMiB(pid, 'VmHWM') ?? NaN;

/** Resident set size now (VmRSS), in MiB. */
export const rssMiB = (pid: number): number => statusMiB(pid, 'VmRSS') ?? NaN;

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

/** CPU time so far and peak memory of `pid` and its children; undefined without /proc. */
export function costOf(pid: number | undefined): Cost | undefined {
  if (pid === undefined || !existsSync(`/proc/${pid}/stat`)) return undefined;
  let cpu = 0;
  let mib = 0;
  for (const member of family(pid)) {
    const used = cpuMs(member);
    if (!Number.isNaN(used)) cpu += used;
    mib += statusMiB(member, 'VmHWM') ?? 0;
  }
  return { cpuMs: Math.round(cpu), rssMiB: Math.round(mib) };
}
