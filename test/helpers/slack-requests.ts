/**
 * Builders for what Slack POSTs to `/slack/events` (slash commands, block_actions, view_submission,
 * view_closed, Events API callbacks, url_verification), signed exactly as Slack signs them, and a
 * sender that delivers one to a running app.
 *
 *   const req = slashCommand({ text: 'status', response_url: fakeSlack.responseUrl('c1') });
 *   const res = await sendToApp(appUrl, FAKE_SIGNING_SECRET, req);   // POST appUrl + /slack/events
 *   expect(res.status).toBe(200);
 *
 * Every default value is obviously fake (see slack-fixtures.ts). The default `response_url` points at
 * an unreachable local address (127.0.0.1:9, the discard port) so that nothing ever leaks to
 * hooks.slack.com; pass `fakeSlack.responseUrl(id)` when a test wants to see what the app posts there.
 */
import { createHmac } from 'node:crypto';
import { reportToSecretGuard } from './secret-guard';
import {
  FAKE_APP_ID,
  FAKE_BOT_ID,
  FAKE_BOT_USER_ID,
  FAKE_CHANNEL_ID,
  FAKE_CHANNEL_NAME,
  FAKE_TEAM_DOMAIN,
  FAKE_TEAM_ID,
  FAKE_USERS,
  FAKE_VERIFICATION_TOKEN,
} from './slack-fixtures';

export * from './slack-fixtures';

/** Where response_url points when a test does not give one: a local port nothing listens on. */
const UNREACHABLE_RESPONSE_URL = 'http://127.0.0.1:9/response/not-configured';

export type SlackRequestKind = 'slash_command' | 'block_actions' | 'view_submission' | 'view_closed' | 'event_callback' | 'url_verification';

/** A request as Slack would send it: the exact raw body and its content type. */
export interface SlackRequest {
  kind: SlackRequestKind;
  contentType: 'application/x-www-form-urlencoded' | 'application/json';
  /** The raw body, byte for byte what gets signed and sent. */
  body: string;
  /** The decoded payload (form fields for a slash command, the JSON object otherwise). */
  payload: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// Signing

/** `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{rawBody}` with the signing secret. */
export function signSlackRequest(secret: string, body: string, timestamp: number | string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/** Current Slack request timestamp (whole seconds). */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export interface SignOptions {
  /** Request timestamp in seconds (default now). Use nowSeconds() - 6 * 60 for a stale one. */
  timestamp?: number;
  /** Sign with a wrong secret (the app must answer 401). */
  badSignature?: boolean;
  /** Adds X-Slack-Retry-Num (and X-Slack-Retry-Reason, default http_timeout). */
  retryNum?: number;
  retryReason?: string;
}

/** The headers Slack sends with `req` (content-type, timestamp, signature, retry headers). */
export function slackHeaders(signingSecret: string, req: SlackRequest, options: SignOptions = {}): Record<string, string> {
  const ts = options.timestamp ?? nowSeconds();
  const secret = options.badSignature ? `${signingSecret}-wrong` : signingSecret;
  const headers: Record<string, string> = {
    'content-type': req.contentType,
    'x-slack-request-timestamp': String(ts),
    'x-slack-signature': signSlackRequest(secret, req.body, ts),
    'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
  };
  if (options.retryNum !== undefined) {
    headers['x-slack-retry-num'] = String(options.retryNum);
    headers['x-slack-retry-reason'] = options.retryReason ?? 'http_timeout';
  }
  return headers;
}

// ---------------------------------------------------------------------------------------------
// Ids

let seq = 0;
const next = () => ++seq;
const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** A trigger id shaped like Slack's (`<digits>.<digits>.<hex>`). */
function fakeTriggerId(): string {
  const n = next();
  return `${pad(1000000000000 + n, 13)}.${pad(n, 10)}.${pad(n, 8)}fa4efa4efa4efa4efa4efa4e`;
}

/** A Slack timestamp (`<seconds>.<6 digits>`), increasing within one test process. */
export function fakeTs(): string {
  return `${nowSeconds()}.${pad(next() % 1_000_000, 6)}`;
}

export function fakeEventId(): string {
  return `Ev0FAKE${pad(next(), 6)}`;
}

export interface SlackUserRef {
  id: string;
  username?: string;
  name?: string;
  team_id?: string;
}

const userOf = (u: string | SlackUserRef | undefined): Required<SlackUserRef> => {
  const ref = typeof u === 'string' ? { id: u } : (u ?? { id: FAKE_USERS.alice });
  const guess = Object.entries(FAKE_USERS).find(([, id]) => id === ref.id)?.[0] ?? ref.id.toLowerCase();
  return { id: ref.id, username: ref.username ?? guess, name: ref.name ?? ref.username ?? guess, team_id: ref.team_id ?? FAKE_TEAM_ID };
};

const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();

// ---------------------------------------------------------------------------------------------
// Slash command

export interface SlashCommandOptions {
  text?: string;
  /** Default `/bwprep`. */
  command?: string;
  user_id?: string;
  user_name?: string;
  channel_id?: string;
  channel_name?: string;
  team_id?: string;
  team_domain?: string;
  enterprise_id?: string;
  enterprise_name?: string;
  api_app_id?: string;
  is_enterprise_install?: boolean;
  response_url?: string;
  trigger_id?: string;
  token?: string;
}

/** `/bwprep <text>` form-encoded with every field Slack sends, in Slack's order. */
export function slashCommand(o: SlashCommandOptions = {}): SlackRequest {
  const user = userOf(o.user_id);
  const fields: Record<string, string> = {
    token: o.token ?? FAKE_VERIFICATION_TOKEN,
    team_id: o.team_id ?? FAKE_TEAM_ID,
    team_domain: o.team_domain ?? FAKE_TEAM_DOMAIN,
    ...(o.enterprise_id !== undefined ? { enterprise_id: o.enterprise_id } : {}),
    ...(o.enterprise_name !== undefined ? { enterprise_name: o.enterprise_name } : {}),
    channel_id: o.channel_id ?? FAKE_CHANNEL_ID,
    channel_name: o.channel_name ?? (o.channel_id?.startsWith('D') ? 'directmessage' : FAKE_CHANNEL_NAME),
    user_id: user.id,
    user_name: o.user_name ?? user.username,
    command: o.command ?? '/bwprep',
    text: o.text ?? '',
    api_app_id: o.api_app_id ?? FAKE_APP_ID,
    is_enterprise_install: String(o.is_enterprise_install ?? false),
    response_url: o.response_url ?? UNREACHABLE_RESPONSE_URL,
    trigger_id: o.trigger_id ?? fakeTriggerId(),
  };
  return { kind: 'slash_command', contentType: 'application/x-www-form-urlencoded', body: form(fields), payload: fields };
}

// ---------------------------------------------------------------------------------------------
// block_actions

export interface PlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}

export interface BlockAction {
  type: string;
  action_id: string;
  block_id: string;
  action_ts: string;
  value?: string;
  text?: PlainText;
  selected_user?: string;
  selected_option?: { text: PlainText; value: string };
  selected_date?: string;
  [key: string]: unknown;
}

/** An action as it appears in `actions[]`; block_id/action_ts are filled in when omitted. */
export type BlockActionInput = Partial<BlockAction> & { action_id: string };

export function button(action_id: string, value?: string, o: { block_id?: string; text?: string; style?: 'primary' | 'danger' } = {}): BlockActionInput {
  return {
    type: 'button',
    action_id,
    ...(o.block_id !== undefined ? { block_id: o.block_id } : {}),
    ...(value !== undefined ? { value } : {}),
    text: { type: 'plain_text', text: o.text ?? action_id, emoji: true },
    ...(o.style ? { style: o.style } : {}),
  };
}

export function usersSelect(action_id: string, selected_user: string, o: { block_id?: string; initial_user?: string } = {}): BlockActionInput {
  return {
    type: 'users_select',
    action_id,
    selected_user,
    ...(o.block_id !== undefined ? { block_id: o.block_id } : {}),
    ...(o.initial_user !== undefined ? { initial_user: o.initial_user } : {}),
  };
}

export interface BlockActionsOptions {
  user?: string | SlackUserRef;
  /** Channel of the message (default FAKE_CHANNEL_ID). Ignored when `view` is given. */
  channel?: string | { id: string; name?: string };
  /** ts of the message holding the buttons (default a fresh fake ts). */
  message_ts?: string;
  /** The message the buttons are on (text/blocks); e.g. fakeSlack.message(channel, ts). */
  message?: { text?: string; blocks?: unknown[]; ts?: string; thread_ts?: string };
  is_ephemeral?: boolean;
  /**
   * For clicks in the App Home or a modal: the view the buttons are in. Then container is
   * `{ type: 'view', view_id }`, and there is no channel, message or response_url (as in Slack).
   */
  view?: {
    id: string;
    type?: 'home' | 'modal';
    blocks?: unknown[];
    private_metadata?: string;
    callback_id?: string;
    hash?: string;
    state?: { values: Record<string, unknown> };
  };
  actions: BlockActionInput[];
  state?: { values: Record<string, Record<string, unknown>> };
  response_url?: string;
  trigger_id?: string;
  team_id?: string;
  team_domain?: string;
  api_app_id?: string;
  token?: string;
}

const interactive = (kind: SlackRequestKind, payload: Record<string, unknown>): SlackRequest => ({
  kind,
  contentType: 'application/x-www-form-urlencoded',
  body: form({ payload: JSON.stringify(payload) }),
  payload,
});

/** A `block_actions` interaction as form `payload=<json>` with the full shape Slack sends. */
export function blockActions(o: BlockActionsOptions): SlackRequest {
  const user = userOf(o.user);
  const teamId = o.team_id ?? FAKE_TEAM_ID;
  const actions: BlockAction[] = o.actions.map((a) => ({
    type: 'button',
    block_id: a.block_id ?? `b-${a.action_id}`,
    action_ts: fakeTs(),
    ...a,
  }));
  const common = {
    type: 'block_actions',
    user,
    api_app_id: o.api_app_id ?? FAKE_APP_ID,
    token: o.token ?? FAKE_VERIFICATION_TOKEN,
    trigger_id: o.trigger_id ?? fakeTriggerId(),
    team: { id: teamId, domain: o.team_domain ?? FAKE_TEAM_DOMAIN },
    enterprise: null,
    is_enterprise_install: false,
  };
  if (o.view) {
    const v = o.view;
    const payload = {
      ...common,
      container: { type: 'view', view_id: v.id },
      view: {
        id: v.id,
        team_id: teamId,
        type: v.type ?? 'home',
        blocks: v.blocks ?? [],
        private_metadata: v.private_metadata ?? '',
        callback_id: v.callback_id ?? '',
        state: v.state ?? o.state ?? { values: {} },
        hash: v.hash ?? `${nowSeconds()}.fakehash`,
        title: { type: 'plain_text', text: 'bwprep', emoji: true },
        clear_on_close: false,
        notify_on_close: false,
        close: null,
        submit: null,
        previous_view_id: null,
        root_view_id: v.id,
        app_id: o.api_app_id ?? FAKE_APP_ID,
        external_id: '',
        app_installed_team_id: teamId,
        bot_id: FAKE_BOT_ID,
      },
      actions,
      state: o.state ?? v.state ?? { values: {} },
    };
    return interactive('block_actions', payload);
  }
  const channel = typeof o.channel === 'string' || o.channel === undefined ? { id: o.channel ?? FAKE_CHANNEL_ID } : o.channel;
  const channelName = 'name' in channel && channel.name ? channel.name : channel.id === FAKE_CHANNEL_ID ? FAKE_CHANNEL_NAME : channel.id.toLowerCase();
  const ts = o.message_ts ?? o.message?.ts ?? fakeTs();
  const payload = {
    ...common,
    container: { type: 'message', message_ts: ts, channel_id: channel.id, is_ephemeral: o.is_ephemeral ?? false },
    channel: { id: channel.id, name: channelName },
    ...(o.is_ephemeral
      ? {}
      : {
          message: {
            type: 'message',
            subtype: 'bot_message',
            user: FAKE_BOT_USER_ID,
            bot_id: FAKE_BOT_ID,
            app_id: o.api_app_id ?? FAKE_APP_ID,
            ts,
            text: o.message?.text ?? '',
            blocks: o.message?.blocks ?? [],
            team: teamId,
            ...(o.message?.thread_ts ? { thread_ts: o.message.thread_ts } : {}),
          },
        }),
    state: o.state ?? { values: {} },
    response_url: o.response_url ?? UNREACHABLE_RESPONSE_URL,
    actions,
  };
  return interactive('block_actions', payload);
}

// ---------------------------------------------------------------------------------------------
// view_submission / view_closed

export interface ViewSubmissionOptions {
  user?: string | SlackUserRef;
  view: {
    id?: string;
    callback_id: string;
    private_metadata?: string;
    /** state.values[block_id][action_id] = { type, value | selected_user | selected_option | … } */
    state?: { values: Record<string, Record<string, unknown>> };
    blocks?: unknown[];
    title?: string;
    external_id?: string;
    hash?: string;
  };
  trigger_id?: string;
  response_urls?: unknown[];
  team_id?: string;
  api_app_id?: string;
  token?: string;
}

function viewPayload(type: 'view_submission' | 'view_closed', o: ViewSubmissionOptions): Record<string, unknown> {
  const user = userOf(o.user);
  const teamId = o.team_id ?? FAKE_TEAM_ID;
  const id = o.view.id ?? `V0FAKE${pad(next(), 4)}`;
  return {
    type,
    team: { id: teamId, domain: FAKE_TEAM_DOMAIN },
    user,
    api_app_id: o.api_app_id ?? FAKE_APP_ID,
    token: o.token ?? FAKE_VERIFICATION_TOKEN,
    trigger_id: o.trigger_id ?? fakeTriggerId(),
    view: {
      id,
      team_id: teamId,
      type: 'modal',
      blocks: o.view.blocks ?? [],
      private_metadata: o.view.private_metadata ?? '',
      callback_id: o.view.callback_id,
      state: o.view.state ?? { values: {} },
      hash: o.view.hash ?? `${nowSeconds()}.fakehash`,
      title: { type: 'plain_text', text: o.view.title ?? 'bwprep', emoji: true },
      clear_on_close: false,
      notify_on_close: type === 'view_closed',
      close: { type: 'plain_text', text: 'Cancel', emoji: true },
      submit: { type: 'plain_text', text: 'Save', emoji: true },
      previous_view_id: null,
      root_view_id: id,
      app_id: o.api_app_id ?? FAKE_APP_ID,
      external_id: o.view.external_id ?? '',
      app_installed_team_id: teamId,
      bot_id: FAKE_BOT_ID,
    },
    enterprise: null,
    is_enterprise_install: false,
    ...(type === 'view_submission' ? { response_urls: o.response_urls ?? [] } : { is_cleared: false }),
  };
}

/** A `view_submission` (modal submit) as form `payload=<json>`. */
export function viewSubmission(o: ViewSubmissionOptions): SlackRequest {
  return interactive('view_submission', viewPayload('view_submission', o));
}

/** A `view_closed` (modal cancelled; only sent when the view has notify_on_close). */
export function viewClosed(o: ViewSubmissionOptions): SlackRequest {
  return interactive('view_closed', viewPayload('view_closed', o));
}

/** state.values entries for viewSubmission, by element type. */
export const stateValue = {
  plainText: (value: string | null) => ({ type: 'plain_text_input', value }),
  usersSelect: (selected_user: string | null) => ({ type: 'users_select', selected_user }),
  staticSelect: (value: string, text = value) => ({ type: 'static_select', selected_option: { text: { type: 'plain_text', text, emoji: true }, value } }),
  datepicker: (selected_date: string | null) => ({ type: 'datepicker', selected_date }),
  timepicker: (selected_time: string | null) => ({ type: 'timepicker', selected_time }),
  checkboxes: (values: string[]) => ({
    type: 'checkboxes',
    selected_options: values.map((v) => ({ text: { type: 'plain_text', text: v, emoji: true }, value: v })),
  }),
};

/** The setup modal's `view.state.values`: block id → `{ value: <element state> }` (src/slack/blocks/setup.ts). */
export type SetupStateValues = Record<string, Record<string, unknown>>;

/**
 * A valid setup modal submission's state (cloud EU, digest 08:30 Europe/Brussels on weekdays, go-live 18
 * December 2026, policies `policies`), with any block's element replaced through `over`.
 */
export function setupStateValues(
  o: { admins: string[]; clientId: string; clientSecret: string; policies?: string[] },
  over: Record<string, unknown> = {},
): SetupStateValues {
  const v: Record<string, unknown> = {
    locale: stateValue.staticSelect('en'),
    hosting: stateValue.staticSelect('cloud-eu'),
    serverUrl: stateValue.plainText(null),
    clientId: stateValue.plainText(o.clientId),
    clientSecret: stateValue.plainText(o.clientSecret),
    digestEnabled: stateValue.checkboxes(['on']),
    digestTime: stateValue.timepicker('08:30'),
    timezone: stateValue.plainText('Europe/Brussels'),
    weekdays: stateValue.checkboxes(['1', '2', '3', '4', '5']),
    goLive: stateValue.datepicker('2026-12-18'),
    admins: { type: 'multi_users_select', selected_users: o.admins },
    desiredPolicies: { type: 'multi_static_select', selected_options: (o.policies ?? ['0']).map((p) => ({ text: { type: 'plain_text', text: p }, value: p })) },
    extensionPassPct: { type: 'number_input', value: '70' },
    onboardingPassPct: { type: 'number_input', value: '95' },
    onboardingWarnPct: { type: 'number_input', value: '60' },
    minOwners: { type: 'number_input', value: '3' },
    ...over,
  };
  return Object.fromEntries(Object.entries(v).map(([k, val]) => [k, { value: val }]));
}

// ---------------------------------------------------------------------------------------------
// Events API

export interface EventCallbackOptions {
  event_id?: string;
  event_time?: number;
  team_id?: string;
  api_app_id?: string;
  token?: string;
  /** The bot's user id in `authorizations` (default FAKE_BOT_USER_ID). */
  bot_user_id?: string;
}

/** An Events API `event_callback` (JSON) wrapping `event`; event_ts is filled in when missing. */
export function eventCallback(event: Record<string, unknown> & { type: string }, o: EventCallbackOptions = {}): SlackRequest {
  const teamId = o.team_id ?? FAKE_TEAM_ID;
  const eventTime = o.event_time ?? nowSeconds();
  const payload = {
    token: o.token ?? FAKE_VERIFICATION_TOKEN,
    team_id: teamId,
    context_team_id: teamId,
    context_enterprise_id: null,
    api_app_id: o.api_app_id ?? FAKE_APP_ID,
    event: { event_ts: `${eventTime}.${pad(next() % 1_000_000, 6)}`, ...event },
    type: 'event_callback',
    event_id: o.event_id ?? fakeEventId(),
    event_time: eventTime,
    authorizations: [{ enterprise_id: null, team_id: teamId, user_id: o.bot_user_id ?? FAKE_BOT_USER_ID, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
    event_context: `4-fake-event-context-${pad(next(), 6)}`,
  };
  return { kind: 'event_callback', contentType: 'application/json', body: JSON.stringify(payload), payload };
}

/** `app_home_opened` for `user` (tab home by default). `channel` is the user's DM with the app. */
export function appHomeOpened(
  user: string = FAKE_USERS.alice,
  o: EventCallbackOptions & { tab?: 'home' | 'messages'; channel?: string; view?: Record<string, unknown> } = {},
): SlackRequest {
  const { tab, channel, view, ...rest } = o;
  return eventCallback(
    { type: 'app_home_opened', user, channel: channel ?? `D0FAKE${user.replace(/^U0?/, '')}`, tab: tab ?? 'home', ...(view ? { view } : {}) },
    rest,
  );
}

/** The one-time `url_verification` handshake; the app must answer with the challenge. */
export function urlVerification(
  challenge = 'fake-challenge-3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
  token = FAKE_VERIFICATION_TOKEN,
): SlackRequest {
  const payload = { token, challenge, type: 'url_verification' };
  return { kind: 'url_verification', contentType: 'application/json', body: JSON.stringify(payload), payload };
}

// ---------------------------------------------------------------------------------------------
// Sending

export interface SendOptions extends SignOptions {
  /** Path to post to when baseUrl has none (default `/slack/events`). */
  path?: string;
  /** Extra or overriding headers. */
  headers?: Record<string, string>;
  /** Abort after this many ms (default 10000). */
  timeoutMs?: number;
}

export interface AppResponse {
  status: number;
  /** Parsed JSON when the answer is JSON, else the text ('' for an empty body). */
  body: unknown;
  text: string;
  headers: Record<string, string>;
  /** Wall time from send to the full body, in ms (Slack gives up after 3000). */
  elapsedMs: number;
}

/** Resolves `baseUrl` to the events URL: `http://host:port` → `http://host:port/slack/events`. */
export function eventsUrl(baseUrl: string, path = '/slack/events'): string {
  const u = new URL(baseUrl);
  if (u.pathname === '/' || u.pathname === '') u.pathname = path;
  return u.toString();
}

/** Signs `req` with `signingSecret` and POSTs it to the app like Slack does. */
export async function sendToApp(baseUrl: string, signingSecret: string, req: SlackRequest, options: SendOptions = {}): Promise<AppResponse> {
  const headers = { ...slackHeaders(signingSecret, req, options), ...(options.headers ?? {}) };
  const started = performance.now();
  const res = await fetch(eventsUrl(baseUrl, options.path), {
    method: 'POST',
    headers,
    body: req.body,
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  const text = await res.text();
  const elapsedMs = performance.now() - started;
  // What the app answers on /slack/events (an ack body, a view's errors) reaches the user: scanned too.
  reportToSecretGuard('slack:http-answer', text);
  let body: unknown = text;
  if (text && (res.headers.get('content-type') ?? '').includes('json')) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  const out: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    out[k] = v;
  });
  return { status: res.status, body, text, headers: out, elapsedMs };
}
