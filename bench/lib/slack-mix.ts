import { ACTIONS, encodeStepRef } from '../../src/views/actions';
import { blockActions, button, FAKE_TEAM_ID, FAKE_USERS, type SlackRequest, slashCommand } from '../../test/helpers/slack-requests';
import { rng } from './stats';

/** The 16 bench channels, one rollout each. */
export const CHANNELS = Array.from({ length: 16 }, (_, i) => `C0BENCH${String(i + 1).padStart(2, '0')}`);
const STEPS = ['1a', '2a', '2b', '4a', '4b', '4c', '4d', '4e', '5b', '6'];

/**
 * The ack bench's seeded request mix (ack.ts, cpu-ab.ts): 20 % `/bwprep status`, 40 % mark_done, 40 %
 * reopen_step clicks on 10 steps across the 16 channels. Returns request `i` of the stream; each request's
 * `response_url` points at `fakeSlackUrl` and is tagged `<tag>-<i>`.
 */
export function requestStream(seed: number, fakeSlackUrl: string, tag: string): (i: number) => SlackRequest {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  return (i: number): SlackRequest => {
    const r = rand();
    const channel = pick(CHANNELS);
    const response_url = `${fakeSlackUrl}/response/${tag}-${i}`;
    if (r < 0.2) {
      return slashCommand({
        text: 'status',
        user_id: pick([FAKE_USERS.alice, FAKE_USERS.bob]),
        channel_id: channel,
        channel_name: channel.toLowerCase(),
        response_url,
      });
    }
    const action = r < 0.6 ? ACTIONS.markDone : ACTIONS.reopenStep;
    const rolloutId = `slack:${FAKE_TEAM_ID}:${channel}`;
    return blockActions({ user: FAKE_USERS.alice, channel, actions: [button(action, encodeStepRef(rolloutId, pick(STEPS)))], response_url });
  };
}
