import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { conversationKey } from '../../src/core/checklist/model';
import { ACTIONS } from '../../src/views/actions';
import { ADA, CONVERSATION, gate, type LayerHarness, layer, resolveUser } from './harness';

/** The living checklist card through the application layer: post, refresh in place, retire, and gone. */

const ROLLOUT = conversationKey(CONVERSATION);
let h: LayerHarness;

beforeEach(async () => {
  h = await layer();
});
afterEach(async () => {
  await h.close();
});

describe('living card', () => {
  it('status posts a new card and retires the previous one, in the rollout language', async () => {
    const ada = h.person(ADA, { locale: 'nl' });
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    expect(h.platform.posts.map((p) => p.ref.ts)).toEqual(['1', '2']);
    expect(h.platform.retired).toEqual([{ ref: h.platform.posts[0]!.ref, locale: 'en' }]);
    expect((await h.service.get(ROLLOUT))?.card).toEqual(h.platform.posts[1]!.ref);
    // Everyone sees the card: the rollout's language, not the poster's.
    expect(h.platform.posts[1]!.view.locale).toBe('en');
    // The card is the answer: nothing else for the poster, also on the first post (no previous card).
    expect(ada.replies).toEqual([]);
  });

  it('a change refreshes the current card in place; without a card nothing is posted', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'done 2a', resolveUser);
    expect(h.platform.updates).toEqual([]);
    expect(h.platform.posts).toEqual([]);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    await h.interactions.command(CONVERSATION, ada, 'done 2b', resolveUser);
    expect(h.platform.updates.map((u) => u.ref)).toEqual([h.platform.posts[0]!.ref]);
  });

  it('a refresh handed the state a write returned renders the stored state when another write followed', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    const first = await h.service.markDone(ROLLOUT, '2a', ada.actor);
    await h.service.markDone(ROLLOUT, '2b', ada.actor);
    expect(await h.interactions.cards.refreshAfterChange(ROLLOUT, first.rollout)).toBe(true);
    expect(h.platform.updates.map((u) => u.view.readiness.complete)).toEqual([2]);
    // Still the stored version: rendered as handed over.
    const third = await h.service.markDone(ROLLOUT, '4a', ada.actor);
    expect(await h.interactions.cards.refreshAfterChange(ROLLOUT, third.rollout)).toBe(true);
    expect(h.platform.updates.map((u) => u.view.readiness.complete)).toEqual([2, 3]);
  });

  it('a burst of refreshes is coalesced: the last word on the card is the latest state', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    await Promise.all(['1a', '2a', '2b', '4a'].map((s) => h.interactions.command(CONVERSATION, ada, `done ${s}`, resolveUser)));
    expect(h.platform.updates.length).toBeLessThanOrEqual(4);
    expect(h.platform.updates.at(-1)!.view.readiness.complete).toBe(4);
  });

  it('a card that is gone is forgotten; the next status posts a fresh one and the change stands', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    h.platform.updateFails = 'gone';
    await h.interactions.command(CONVERSATION, ada, 'done 2a', resolveUser);
    expect(ada.texts()).toEqual(['Step 2a is marked done.']);
    const r = await h.service.get(ROLLOUT);
    expect(r?.card).toBeUndefined();
    expect(r?.steps['2a']?.state).toBe('done');
    h.platform.updateFails = undefined;
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    expect(h.platform.posts).toHaveLength(2);
    // Nothing to retire: the old card is gone.
    expect(h.platform.retired).toEqual([]);
  });

  it('a card the platform will not update: the change is saved and the person hears how to get a fresh card', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    h.platform.updateFails = 'refused';
    await h.interactions.command(CONVERSATION, ada, 'done 2a', resolveUser);
    expect(ada.texts()).toEqual([
      'Step 2a is marked done.\nThe change is saved, but I could not update the checklist card just now. status posts a fresh one.',
    ]);
    expect((await h.service.get(ROLLOUT))?.steps['2a']?.state).toBe('done');
  });

  it('a click during a check run gets its own update: it does not join the "checking…" one', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    await Promise.all([h.interactions.cards.refresh(ROLLOUT, { checking: true }), h.interactions.cards.refresh(ROLLOUT)]);
    expect(h.platform.updates.map((u) => u.checking)).toEqual([true, false]);
  });

  it('another replica writing while the card updates: re-rendered with its state, at most three times in a row', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    // Another replica marks a step done while this one's update is on its way (once).
    const update = h.platform.cards.update;
    const others = ['4a', '4b', '4c', '4d', '5a'];
    let writes = 1;
    h.platform.cards.update = async (...args) => {
      await update(...args);
      if (writes-- > 0) await h.service.markDone(ROLLOUT, others.shift()!, ada.actor);
    };
    await h.interactions.command(CONVERSATION, ada, 'done 2a', resolveUser);
    expect(h.platform.updates.map((u) => u.view.readiness.complete)).toEqual([1, 2]);

    // A replica that writes on every update: the card follows three times, then leaves it to the next change.
    writes = Infinity;
    h.platform.updates.length = 0;
    await h.interactions.command(CONVERSATION, ada, 'done 2b', resolveUser);
    expect(h.platform.updates.map((u) => u.view.readiness.complete)).toEqual([3, 4, 5]);
  });

  it('a refresh after a change renders the state the write returned: no second read of the rollout', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    const get = h.store.rollouts.get.bind(h.store.rollouts);
    let reads = 0;
    h.store.rollouts.get = (id) => {
      reads++;
      return get(id);
    };
    await h.interactions.cardAction(ada, { action: ACTIONS.markDone, rolloutId: ROLLOUT, stepId: '2a' });
    expect(h.platform.updates.map((u) => u.view.readiness.complete)).toEqual([1]);
    // The click reads the rollout once (to find it); the write returns the new state; the card renders that.
    expect(reads).toBe(1);
    // A refresh with nothing handed over reads the stored state.
    await h.interactions.cards.refresh(ROLLOUT);
    expect(reads).toBe(2);
    // A handed state older than the stored one is not rendered (nor kept for later).
    const first = await h.service.markDone(ROLLOUT, '2b', ada.actor);
    await h.service.markDone(ROLLOUT, '4a', ada.actor);
    reads = 0;
    await h.interactions.cards.refresh(ROLLOUT, {}, first.rollout);
    expect(reads).toBe(1);
    expect(h.platform.updates.at(-1)!.view.readiness.complete).toBe(3);
    await h.interactions.cards.refresh(ROLLOUT, {}, { ...first.rollout, version: first.rollout.version - 1 });
    expect(reads).toBe(2);
  });

  it('states handed over while a refresh is on its way: the newest one is rendered, without a read', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    const first = await h.service.markDone(ROLLOUT, '2a', ada.actor);
    const second = await h.service.markDone(ROLLOUT, '2b', ada.actor);
    // Hold the card update of a refresh already under way.
    const update = h.platform.cards.update;
    const held = gate();
    h.platform.cards.update = held.hold(update);
    const running = h.interactions.cards.refresh(ROLLOUT);
    await new Promise((r) => setImmediate(r));
    const get = h.store.rollouts.get.bind(h.store.rollouts);
    let reads = 0;
    h.store.rollouts.get = (id) => {
      reads++;
      return get(id);
    };
    // Handed over newest last and newest first: either way the newest is kept for the waiting refresh.
    const waiting = [
      h.interactions.cards.refresh(ROLLOUT, {}, first.rollout),
      h.interactions.cards.refresh(ROLLOUT, {}, second.rollout),
      h.interactions.cards.refresh(ROLLOUT, {}, first.rollout),
    ];
    h.platform.cards.update = update;
    held.open();
    await Promise.all([running, ...waiting]);
    expect(h.platform.updates.at(-1)!.view.readiness.complete).toBe(2);
    expect(reads).toBe(0);
  });

  it('a re-post the platform answers with the same message (it edited the card in place) retires nothing', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    const ref = h.platform.posts[0]!.ref;
    h.platform.cards.post = async (conversation, view) => {
      h.platform.posts.push({ conversation, view, ref });
      return ref;
    };
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    expect(h.platform.retired).toEqual([]);
    expect((await h.service.get(ROLLOUT))?.card).toEqual(ref);
    // Another message in another channel with the same ts is another card: the old one is retired.
    const other = { ...ref, channel: '19:elsewhere' };
    h.platform.cards.post = async (conversation, view) => {
      h.platform.posts.push({ conversation, view, ref: other });
      return other;
    };
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    expect(h.platform.retired).toEqual([{ ref, locale: 'en' }]);
  });

  it('a card for a rollout that is not there: refused with an error naming it, nothing posted', async () => {
    const ada = h.person(ADA);
    await expect(h.interactions.cards.post('teams:tenant-1:19:gone', ada.actor)).rejects.toThrow('rollout teams:tenant-1:19:gone vanished');
    expect(h.platform.posts).toEqual([]);
  });

  it('with an update interval set, a change right after an update waits out the interval, then shows the newest state', async () => {
    await h.close();
    h = await layer({ cardUpdateIntervalMs: 60_000 });
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    try {
      const ada = h.person(ADA);
      await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
      await h.interactions.command(CONVERSATION, ada, 'done 2a', resolveUser);
      expect(h.platform.updates).toHaveLength(1);
      const next = h.interactions.command(CONVERSATION, ada, 'done 2b', resolveUser);
      for (let i = 0; i < 100 && vi.getTimerCount() === 0; i++) await new Promise((r) => setImmediate(r));
      expect(vi.getTimerCount()).toBe(1);
      expect(h.platform.updates).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(60_000);
      await next;
      expect(h.platform.updates.map((u) => u.view.readiness.complete)).toEqual([1, 2]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('bwprep_card_refreshes_in_flight', () => {
  const inFlight = async () => (await h.metrics.cardRefreshes.get()).values[0]?.value ?? 0;
  const settled = () => new Promise((r) => setImmediate(r));

  it('counts a rollout while its refreshes render or wait, once however many wait, and 0 when idle, also after a failure', async () => {
    const ada = h.person(ADA);
    await h.interactions.command(CONVERSATION, ada, 'status', resolveUser);
    await settled();
    expect(await inFlight()).toBe(0);
    const update = h.platform.cards.update;
    const held = gate();
    h.platform.cards.update = held.hold(update);
    const running = h.interactions.cards.refresh(ROLLOUT);
    await settled();
    expect(await inFlight()).toBe(1);
    const waiting = [h.interactions.cards.refresh(ROLLOUT), h.interactions.cards.refresh(ROLLOUT, { checking: true })];
    expect(await inFlight()).toBe(1);
    held.open();
    await Promise.all([running, ...waiting]);
    await settled();
    expect(await inFlight()).toBe(0);
    // A refresh the platform refuses leaves nothing counted either.
    h.platform.cards.update = async () => {
      throw new Error('platform down');
    };
    await expect(h.interactions.cards.refresh(ROLLOUT)).rejects.toThrow('platform down');
    await settled();
    expect(await inFlight()).toBe(0);
    h.platform.cards.update = update;
  });
});
