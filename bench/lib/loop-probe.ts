import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

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

/**
 * BENCH_ALLOC_PROFILE=<dir>: the server child samples its main thread's allocations (V8's sampling heap
 * profiler, collected objects included, so it shows where allocation happens, not what is retained) and
 * writes `<name>.<pid>.heapprofile` there on exit, for Chrome DevTools or `profile-summary`. Diagnosis only.
 */
export function allocationProfile(name: string): void {
  const dir = process.env.BENCH_ALLOC_PROFILE;
  if (!dir) return;
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.startSampling', {
    samplingInterval: 16_384,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  process.once('exit', () => {
    // A session on this thread answers synchronously, so this works in an exit handler.
    session.post('HeapProfiler.stopSampling', (err, res) => {
      if (!err) writeFileSync(join(dir, `${name}.${process.pid}.heapprofile`), JSON.stringify(res.profile));
    });
  });
}
