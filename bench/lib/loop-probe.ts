import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

/**
 * BENCH_LOOP_PROBE=1: every `ms`, the server child prints its main thread's event-loop delay (p50/p99/max,
 * ms) and utilization to stderr — where acks wait, for diagnosis (not part of the results).
 */
export function loopProbe(name: string, ms = 1000): void {
  if (!process.env.BENCH_LOOP_PROBE) return;
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  let elu = performance.eventLoopUtilization();
  setInterval(() => {
    const now = performance.eventLoopUtilization(elu);
    elu = performance.eventLoopUtilization();
    const f = (ns: number) => (ns / 1e6).toFixed(1);
    process.stderr.write(
      `[loop ${name}] p50 ${f(h.percentile(50))} p99 ${f(h.percentile(99))} max ${f(h.max)} ms, utilization ${(now.utilization * 100).toFixed(0)} %\n`,
    );
    h.reset();
  }, ms).unref();
}
