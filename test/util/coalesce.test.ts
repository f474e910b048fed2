import { describe, expect, it } from 'vitest';
import { Coalescer } from '../../src/util/coalesce';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

describe('Coalescer', () => {
  it('keeps one run in flight per key; calls meanwhile share one waiting run, which sees the latest state', async () => {
    const c = new Coalescer();
    let state = 0;
    const rendered: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const gate = deferred();
    const render = async () => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const seen = state;
      if (rendered.length === 0) await gate.promise;
      rendered.push(seen);
      inFlight -= 1;
    };
    const first = c.run('card', render);
    await Promise.resolve(); // the first run has started
    await Promise.resolve();
    const later: Promise<void>[] = [];
    for (let i = 1; i <= 5; i++) {
      state = i;
      later.push(c.run('card', render));
    }
    expect(c.joined).toBe(4);
    gate.resolve();
    await Promise.all([first, ...later]);
    expect(rendered).toEqual([0, 5]);
    expect(maxInFlight).toBe(1);
    expect(c.active).toBe(0);
  });

  it('tells whether a run is waiting for a key', async () => {
    const c = new Coalescer();
    const gate = deferred();
    const first = c.run('k', () => gate.promise);
    expect(c.hasWaiting('k')).toBe(true); // not started before the next microtask
    await Promise.resolve();
    await Promise.resolve();
    expect(c.hasWaiting('k')).toBe(false);
    const second = c.run('k', async () => undefined);
    expect(c.hasWaiting('k')).toBe(true);
    expect(c.hasWaiting('other')).toBe(false);
    gate.resolve();
    await Promise.all([first, second]);
    expect(c.hasWaiting('k')).toBe(false);
  });

  it('calls in the same turn join the first run', async () => {
    const c = new Coalescer();
    let runs = 0;
    await Promise.all([1, 2, 3].map(() => c.run('k', async () => void runs++)));
    expect(runs).toBe(1);
  });

  it('keys are independent', async () => {
    const c = new Coalescer();
    const order: string[] = [];
    const gate = deferred();
    const a = c.run('a', async () => {
      await gate.promise;
      order.push('a');
    });
    const b = c.run('b', async () => void order.push('b'));
    await b;
    expect(order).toEqual(['b']);
    gate.resolve();
    await a;
    expect(order).toEqual(['b', 'a']);
  });

  it('a higher-rank call takes over the waiting run; its outcome is everyone’s', async () => {
    const c = new Coalescer();
    const done: string[] = [];
    const gate = deferred();
    const running = c.run('card', async () => {
      await gate.promise;
      done.push('update 1');
    });
    await Promise.resolve();
    await Promise.resolve();
    const update = c.run('card', async () => void done.push('update 2'));
    const post = c.run('card', async () => void done.push('post'), { rank: 1 });
    const update3 = c.run('card', async () => void done.push('update 3'));
    gate.resolve();
    await Promise.all([running, update, post, update3]);
    expect(done).toEqual(['update 1', 'post']);
  });

  it('exclusive calls neither join nor are joined, and run in order', async () => {
    const c = new Coalescer();
    const done: string[] = [];
    const gate = deferred();
    const first = c.run('card', async () => {
      await gate.promise;
      done.push('first');
    });
    await Promise.resolve();
    await Promise.resolve();
    const calls = [
      c.run('card', async () => void done.push('plain')),
      c.run('card', async () => void done.push('overlay'), { exclusive: true }),
      c.run('card', async () => void done.push('plain after')),
      c.run('card', async () => void done.push('joins plain after')),
    ];
    gate.resolve();
    await Promise.all([first, ...calls]);
    expect(done).toEqual(['first', 'plain', 'overlay', 'plain after']);
  });

  it('a failed run rejects everyone who joined it; the key goes on working', async () => {
    const c = new Coalescer();
    const gate = deferred();
    const first = c.run('k', () => gate.promise);
    await Promise.resolve();
    await Promise.resolve();
    const a = c.run('k', async () => Promise.reject(new Error('slack said no')));
    const b = c.run('k', async () => undefined);
    gate.resolve();
    await first;
    await expect(a).rejects.toThrow('slack said no');
    await expect(b).rejects.toThrow('slack said no');
    await expect(c.run('k', async () => undefined)).resolves.toBeUndefined();
  });
});
