import type { BlockAction, SlashCommand } from '@slack/bolt';

/**
 * The port through which the Slack listeners hand a command's or click's work after its ack to another
 * thread (SlackDeps.offload). The Slack work thread (src/work-thread/) implements it; the listeners only
 * know this.
 */

/** The work after an ack that the main thread hands over: the Slack payload as Bolt gave it. */
export type SlackWork = { kind: 'command'; command: SlashCommand } | { kind: 'action'; body: BlockAction };

/** Runs post-ack work somewhere else than the thread that acked (SlackDeps.offload). */
export interface SlackOffload {
  /**
   * Hands `work` over and resolves `'handed'` at once; `settled` is called (once) when the work is settled —
   * the person has their answer, so the caller's work slot may go back — or when the work thread is gone.
   * The rest of the work (the card update) goes on over there, and `idle()` waits for it. The caller keeps
   * nothing of the request: a thread that held hundreds of parsed payloads until their work was settled made
   * every young-generation GC of the ack thread ~10 ms (bench/README.md). Never rejects: when the work
   * thread dies with the work, the person is told through `tell` (a localized sentence with a log
   * reference) and the thread is started again for the next request. Resolves `'unavailable'` without doing
   * anything when there is no work thread to hand to (it could not start): the caller does the work itself.
   */
  run(work: SlackWork, tell: (text: string) => Promise<unknown>, settled: () => void): Promise<'handed' | 'unavailable'>;
  /** Resolves once no work handed over is still running. */
  idle(): Promise<void>;
}

/**
 * The payload as the work thread needs it: a click without `message` (the clicked card, ~9 KB of blocks that
 * the work never reads: it renders the stored rollout), so less is copied between the threads.
 */
export function slimWork(work: SlackWork): SlackWork {
  if (work.kind !== 'action' || !('message' in work.body)) return work;
  const { message: _message, ...body } = work.body as SlackWork & { message?: unknown } & BlockAction;
  return { kind: 'action', body: body as BlockAction };
}
