/**
 * Obviously fake Slack identifiers and secrets shared by the fake Slack Web API
 * (test/fakes/slack-api.ts) and the signed-request builders (test/helpers/slack-requests.ts).
 * None of these values works against the real Slack.
 */
export const FAKE_SIGNING_SECRET = 'fake-signing-secret';
export const FAKE_BOT_TOKEN = 'xoxb-fake-bot-token-for-tests';
export const FAKE_APP_TOKEN = 'xapp-fake-app-token-for-tests';
/** The `token` field Slack still puts in payloads (the deprecated verification token). */
export const FAKE_VERIFICATION_TOKEN = 'fake-verification-token';

export const FAKE_TEAM_ID = 'T0FAKE';
export const FAKE_TEAM_DOMAIN = 'fake-team';
export const FAKE_TEAM_NAME = 'Fake Team';
export const FAKE_APP_ID = 'A0FAKEAPP';
export const FAKE_BOT_USER_ID = 'U0FAKEBOT';
export const FAKE_BOT_ID = 'B0FAKEBOT';
export const FAKE_CHANNEL_ID = 'C0FAKEROLL';
export const FAKE_CHANNEL_NAME = 'bitwarden-rollout';

/** Default users known to the fake: an admin who speaks Dutch, a member who speaks English. */
export const FAKE_USERS = {
  alice: 'U0ALICE',
  bob: 'U0BOB',
  carol: 'U0CAROL',
} as const;
