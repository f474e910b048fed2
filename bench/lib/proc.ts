import { readFileSync } from 'node:fs';

/** A field of /proc/<pid>/status in kB (VmRSS, VmHWM, …); undefined when not readable (not Linux, gone). */
export function procStatusKb(pid: number | 'self', field: 'VmRSS' | 'VmHWM' | 'VmPeak' | 'VmSize'): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export const kbToMb = (kb: number | undefined): number | undefined => (kb === undefined ? undefined : Math.round((kb / 1024) * 10) / 10);

const CLK_TCK = 100; // USER_HZ on Linux

/** CPU time (user + system) of a process in ms, from /proc/<pid>/stat. */
export function procCpuMs(pid: number | 'self'): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which is in parentheses and may contain spaces).
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return ((utime + stime) * 1000) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** Measures the CPU share (1.0 = one full core) a process used between start() and stop(). */
export function cpuMeter(pid: number | 'self') {
  const c0 = procCpuMs(pid);
  const t0 = performance.now();
  return () => {
    const c1 = procCpuMs(pid);
    const t1 = performance.now();
    if (c0 === undefined || c1 === undefined) return undefined;
    return Math.round(((c1 - c0) / (t1 - t0)) * 100) / 100;
  };
}

/** Machine-wide busy CPU (in cores) between start() and stop(), from /proc/stat: shows contention by other processes. */
export function machineMeter() {
  const read = () => {
    try {
      const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
      const f = line.trim().split(/\s+/).slice(1).map(Number);
      const idle = (f[3] ?? 0) + (f[4] ?? 0);
      const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
      return { idle, total };
    } catch {
      return undefined;
    }
  };
  const a = read();
  const ncpu = (() => {
    try {
      return (readFileSync('/proc/stat', 'utf8').match(/^cpu\d+ /gm) ?? []).length || 1;
    } catch {
      return 1;
    }
  })();
  return () => {
    const b = read();
    if (!a || !b || b.total === a.total) return undefined;
    return Math.round(((b.total - a.total - (b.idle - a.idle)) / (b.total - a.total)) * ncpu * 100) / 100;
  };
}
