import { describe, expect, it } from 'vitest';
import { createMetrics, workQueueMetrics } from '../../src/metrics';
import { isWorkQueueFull, WorkQueue, WorkQueueFullError } from '../../src/util/work-queue';

/** A promise the test settles by hand (no timers, no sleeps). */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('WorkQueue', () => {
  it('runs at most `concurrency` tasks, keeps `maxBacklog` waiting and refuses the next with a typed error', async () => {
    const q = new WorkQueue({ name: 'test', concurrency: 2, maxBacklog: 1 });
    const gates = [deferred(), deferred(), deferred()];
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      q.run(async () => {
        started.push(i);
        await g.promise;
        return i;
      }),
    );
    expect(q.stats()).toEqual({ running: 2, waiting: 1, dropped: 0 });

    const refused = q.run(async () => 'never');
    await expect(refused).rejects.toBeInstanceOf(WorkQueueFullError);
    await refused.catch((e: unknown) => {
      expect(isWorkQueueFull(e)).toBe(true);
      expect((e as WorkQueueFullError).code).toBe('busy');
      expect((e as WorkQueueFullError).capacity).toEqual({ concurrency: 2, maxBacklog: 1 });
    });
    expect(q.stats().dropped).toBe(1);

    gates[0]!.resolve();
    expect(await runs[0]).toBe(0);
    // The freed slot went to the waiting task, so there is room to wait again.
    expect(q.stats()).toEqual({ running: 2, waiting: 0, dropped: 1 });
    const fits = q.run(async () => 'fits');
    expect(q.stats().waiting).toBe(1);
    gates[1]!.resolve();
    gates[2]!.resolve();
    expect(await Promise.all(runs)).toEqual([0, 1, 2]);
    expect(await fits).toBe('fits');
    expect(started).toEqual([0, 1, 2]);
    await q.onIdle();
    expect(q.stats()).toEqual({ running: 0, waiting: 0, dropped: 1 });
  });

  it('starts waiting tasks in the order they came', async () => {
    const q = new WorkQueue({ name: 'test', concurrency: 1, maxBacklog: 10 });
    const order: string[] = [];
    const all = ['a', 'b', 'c', 'd', 'e'].map((x) =>
      q.run(async () => {
        order.push(`start ${x}`);
        await Promise.resolve();
        order.push(`end ${x}`);
      }),
    );
    await Promise.all(all);
    expect(order).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c', 'start d', 'end d', 'start e', 'end e']);
  });

  it('never starts a task in the caller’s turn: I/O callbacks already waiting run first', async () => {
    const q = new WorkQueue({ name: 'test', concurrency: 4, maxBacklog: 4 });
    const events: string[] = [];
    setImmediate(() => events.push('waiting callback'));
    const done = q.run(async () => {
      events.push('task');
    });
    await Promise.resolve();
    events.push('caller continues');
    await done;
    expect(events).toEqual(['caller continues', 'waiting callback', 'task']);
  });

  it('a failing task rejects only its own promise and frees its slot', async () => {
    const q = new WorkQueue({ name: 'test', concurrency: 1, maxBacklog: 0 });
    await expect(q.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(q.run(async () => 'next')).resolves.toBe('next');
  });

  it('reports refused work and the backlog as Prometheus metrics', async () => {
    const metrics = createMetrics();
    const q = new WorkQueue({ name: 'slack', concurrency: 1, maxBacklog: 2, observer: workQueueMetrics(metrics, 'slack') });
    const gate = deferred();
    const runs = [1, 2, 3].map(() => q.run(() => gate.promise));
    const refused = [q.run(async () => undefined), q.run(async () => undefined)];
    await Promise.allSettled(refused);

    let text = await metrics.registry.metrics();
    expect(text).toContain('bwprep_work_dropped_total{queue="slack"} 2');
    expect(text).toContain('bwprep_work_backlog{queue="slack"} 2');

    gate.resolve();
    await Promise.all(runs);
    await q.onIdle();
    text = await metrics.registry.metrics();
    expect(text).toContain('bwprep_work_backlog{queue="slack"} 0');
  });

  it('acquire holds a slot until released, and refuses like run when full', async () => {
    const q = new WorkQueue({ name: 'test', concurrency: 1, maxBacklog: 1 });
    const release = await q.acquire();
    expect(q.stats()).toEqual({ running: 1, waiting: 0, dropped: 0 });
    let second = false;
    const next = q.acquire().then((r) => {
      second = true;
      return r;
    });
    await expect(q.acquire()).rejects.toBeInstanceOf(WorkQueueFullError);
    await Promise.resolve();
    expect(second).toBe(false);
    release();
    release(); // idempotent: frees one slot only
    const release2 = await next;
    expect(second).toBe(true);
    expect(q.stats()).toEqual({ running: 1, waiting: 0, dropped: 1 });
    release2();
    await q.onIdle();
    expect(q.stats().running).toBe(0);
  });

  it('refuses a capacity it cannot keep', () => {
    expect(() => new WorkQueue({ name: 'x', concurrency: 0, maxBacklog: 1 })).toThrow(RangeError);
    expect(() => new WorkQueue({ name: 'x', concurrency: 1, maxBacklog: -1 })).toThrow(RangeError);
  });
});
