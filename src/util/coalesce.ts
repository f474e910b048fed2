export interface CoalesceOptions {
  /**
   * A waiting run of lower rank is replaced by this call's function (its callers then get this outcome);
   * one of equal or higher rank is joined as is. Default 0. (The living card: a re-post outranks an update,
   * both render the latest state.)
   */
  rank?: number;
  /** Never joins a waiting run and is never joined: it runs on its own, in order (an update with an overlay). */
  exclusive?: boolean;
}

interface Entry {
  fn: () => Promise<void>;
  rank: number;
  exclusive: boolean;
  resolve: () => void;
  reject: (e: unknown) => void;
  promise: Promise<void>;
}

interface Lane {
  running: boolean;
  waiting: Entry[];
}

/**
 * Per key: at most one run in flight, and calls made meanwhile share one waiting run, which starts when
 * the running one ends. A waiting run's function is expected to read the latest state when it starts, so
 * the last word is always the latest state and N calls during one run cost at most one more run
 * (platform-free; the living checklist card uses it per rollout, one `chat.update` in flight per card).
 *
 * Every caller gets the outcome (resolve or the error) of the run it joined. Lanes are forgotten when idle,
 * so memory is bounded by the keys in use.
 */
export class Coalescer {
  private readonly lanes = new Map<string, Lane>();
  /** Calls that joined a waiting run instead of adding one (for tests and benchmarks). */
  joined = 0;

  run(key: string, fn: () => Promise<void>, opts: CoalesceOptions = {}): Promise<void> {
    const rank = opts.rank ?? 0;
    const exclusive = opts.exclusive ?? false;
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { running: false, waiting: [] };
      this.lanes.set(key, lane);
    }
    const last = lane.waiting[lane.waiting.length - 1];
    if (last && !last.exclusive && !exclusive) {
      if (rank > last.rank) {
        last.fn = fn;
        last.rank = rank;
      }
      this.joined += 1;
      return last.promise;
    }
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    lane.waiting.push({ fn, rank, exclusive, resolve, reject, promise });
    if (!lane.running) {
      lane.running = true;
      // Start in a microtask: calls made in the same turn still join this first run.
      void Promise.resolve().then(() => this.drain(key, lane));
    }
    return promise;
  }

  /** Whether a run for `key` is waiting to start (it will read the state as it is then). */
  hasWaiting(key: string): boolean {
    return (this.lanes.get(key)?.waiting.length ?? 0) > 0;
  }

  /** Keys with a run in flight or waiting. */
  get active(): number {
    return this.lanes.size;
  }

  private async drain(key: string, lane: Lane): Promise<void> {
    for (let e = lane.waiting.shift(); e; e = lane.waiting.shift()) {
      try {
        await e.fn();
        e.resolve();
      } catch (err) {
        e.reject(err);
      }
    }
    lane.running = false;
    this.lanes.delete(key);
  }
}
