import PQueue from 'p-queue';

/** Thrown (as a rejected promise) by `WorkQueue.run` when the backlog is full; nothing of the task ran. */
export class WorkQueueFullError extends Error {
  readonly code = 'busy' as const;
  constructor(
    readonly queue: string,
    readonly capacity: { concurrency: number; maxBacklog: number },
  ) {
    super(`work queue ${queue} is full (${capacity.concurrency} running, ${capacity.maxBacklog} waiting)`);
    this.name = 'WorkQueueFullError';
  }
}

export function isWorkQueueFull(e: unknown): e is WorkQueueFullError {
  return e instanceof WorkQueueFullError;
}

export interface WorkQueueObserver {
  /** One task refused because the backlog was full. */
  dropped?(): void;
  /** The number of tasks waiting (not yet running) changed. */
  backlog?(waiting: number): void;
}

export interface WorkQueueOptions {
  /** For errors and metrics. */
  name: string;
  /** Tasks running at once (each may await I/O). ≥ 1. */
  concurrency: number;
  /** Tasks allowed to wait for a slot; one more is refused with WorkQueueFullError. ≥ 0. */
  maxBacklog: number;
  observer?: WorkQueueObserver;
}

/** Resolves in the event loop's check phase: I/O that is already waiting (new requests, acks) goes first. */
export const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A bounded queue for the work an interaction does after its ack (platform-free: tasks are plain async
 * functions).
 *
 * - Capacity: `concurrency` tasks run at once, at most `maxBacklog` wait, in FIFO order; a task beyond that
 *   is refused at once with `WorkQueueFullError` (the caller tells the user "busy, try again") and counted
 *   through `observer.dropped`. Memory and the backlog stay bounded under overload.
 * - Off the ack's turn: every task starts after a `setImmediate`, so the caller's HTTP response is written
 *   and waiting I/O is polled before the task's first synchronous chunk runs.
 *
 * Concurrency and ordering come from p-queue 6 (already in the tree as @slack/web-api's own request
 * queue; later majors are ESM-only and this project is CommonJS); the bound, the drop policy and the yield
 * are ours.
 */
export class WorkQueue {
  private readonly q: PQueue;
  private dropped = 0;

  constructor(private readonly o: WorkQueueOptions) {
    if (!(o.concurrency >= 1) || !(o.maxBacklog >= 0)) throw new RangeError(`work queue ${o.name}: concurrency must be ≥ 1 and maxBacklog ≥ 0`);
    this.q = new PQueue({ concurrency: o.concurrency });
    this.q.on('next', () => o.observer?.backlog?.(this.q.size));
  }

  /**
   * Runs `task` when a slot is free (never in the caller's turn). Resolves or rejects with the task's
   * outcome; rejects with `WorkQueueFullError` without running it when `maxBacklog` tasks already wait.
   */
  run<T>(task: () => Promise<T>): Promise<T> {
    // p-queue starts a task at once when a slot is free, else it waits in `size`.
    if (this.q.pending >= this.o.concurrency && this.q.size >= this.o.maxBacklog) {
      this.dropped += 1;
      this.o.observer?.dropped?.();
      return Promise.reject(new WorkQueueFullError(this.o.name, { concurrency: this.o.concurrency, maxBacklog: this.o.maxBacklog }));
    }
    const done = this.q.add(async () => {
      await yieldToIo();
      return task();
    });
    this.o.observer?.backlog?.(this.q.size);
    return done;
  }

  /**
   * Waits for a slot (never in the caller's turn) and holds it until the returned `release` is called
   * (idempotent): for work written in place rather than as a function. Rejects with `WorkQueueFullError`
   * like `run`. The caller must release in a `finally`, or the slot is lost.
   */
  acquire(): Promise<() => void> {
    return new Promise((resolve, reject) => {
      this.run(
        () =>
          new Promise<void>((done) => {
            let held = true;
            resolve(() => {
              if (held) done();
              held = false;
            });
          }),
      ).catch(reject);
    });
  }

  /** Running tasks, waiting tasks, tasks refused since start. */
  stats(): { running: number; waiting: number; dropped: number } {
    return { running: this.q.pending, waiting: this.q.size, dropped: this.dropped };
  }

  /** Resolves when nothing runs or waits. */
  onIdle(): Promise<void> {
    return this.q.onIdle();
  }
}
