/**
 * CPU time of processes and of the whole machine, read from Linux's `/proc` (the bench machine's
 * system), to say where the cores went during a run: the load generator, each server process,
 * Redis, and everything else on the machine.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of `/proc`'s counters (`getconf CLK_TCK`, 100 on Linux nearly always). */
const TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Fields of `/proc/<pid>/stat` after the command name (which may hold spaces and parentheses). */
function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds a process has used so far (NaN once it is gone). */
export function processCpuSeconds(pid: number): number {
  const fields = statFields(pid);
  // After the name: state(0) ppid(1) … utime(11) stime(12).
  return fields === undefined ? Number.NaN : (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/** The processes whose parent is `pid` (node:cluster workers of a primary). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    if (statFields(Number(name))?.[1] === String(pid)) out.push(Number(name));
  }
  return out.sort((a, b) => a - b);
}

/** Busy and total CPU seconds of the whole machine, all cores together (`/proc/stat`). */
export function machineCpuSeconds(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] as string;
  // cpu user nice system idle iowait irq softirq steal …
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = v.reduce((s, x) => s + x, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: (total - idle) / TICKS, total: total / TICKS };
}
