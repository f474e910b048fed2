import type { App } from '@slack/bolt';
import { z } from 'zod';
import { type Locale, type Message, thresholdError, type UserKey } from '../../core/checklist/model';
import type { SetupField, SetupInput } from '../../core/checklist/settings';
import { ACTIONS } from '../../views/actions';
import { plainText, type Rich } from '../../views/rich';
import { renderRich, t } from '../../i18n';
import { randomUUID } from 'node:crypto';
import type { SlackDeps } from '../app';
import { slackRequester } from '../requester';

/*
 * The modal's state as Slack sends it in a view_submission: `view.state.values[block_id][action_id]`, the
 * action id always `value` (slack/blocks/setup.ts), each element shaped by its type (an empty input is
 * null: `value: null`, `selected_option: null`, `selected_options: []`). Bolt checks the signature, not this
 * shape, so it is decoded here: a block that is missing or not shaped like its element is unreadable.
 */
const option = z.object({ value: z.string() });
const element = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) => z.object({ type: z.literal(type), ...shape });
const textInput = element('plain_text_input', { value: z.string().nullish() });
const numberInput = element('number_input', { value: z.string().nullish() });
const staticSelect = element('static_select', { selected_option: option.nullish() });
const checkboxes = element('checkboxes', { selected_options: z.array(option).nullish() });
const multiStaticSelect = element('multi_static_select', { selected_options: z.array(option).nullish() });
/** Slack user ids (U…, W…): anything else would become an admin key that names nobody. */
const usersSelect = element('multi_users_select', { selected_users: z.array(z.string().regex(/^[A-Z0-9]+$/)).nullish() });
const timepicker = element('timepicker', { selected_time: z.string().nullish() });
const datepicker = element('datepicker', { selected_date: z.string().nullish() });

/** A reader for one block: its value for SetupInput, or undefined when the element does not have its shape. */
type Reader<F extends SetupField> = (raw: unknown) => NonNullable<SetupInput[F]> | undefined;
const reader =
  <T, R>(schema: z.ZodType<T>, pick: (e: T) => R) =>
  (raw: unknown): R | undefined => {
    const r = schema.safeParse(raw);
    return r.success ? pick(r.data) : undefined;
  };
const text = reader(textInput, (e) => e.value ?? '');
const number = reader(numberInput, (e) => e.value ?? '');
const selected = reader(staticSelect, (e) => e.selected_option?.value ?? '');
const checked = reader(checkboxes, (e) => (e.selected_options ?? []).map((o) => o.value));

/** Block ids are the SetupInput field names; every input block of the modal has one. */
const READERS: { [F in SetupField]-?: Reader<F> } = {
  locale: selected,
  hosting: selected,
  serverUrl: text,
  clientId: text,
  clientSecret: text,
  digestEnabled: reader(checkboxes, (e) => (e.selected_options ?? []).some((o) => o.value === 'on')),
  digestTime: reader(timepicker, (e) => e.selected_time ?? ''),
  timezone: text,
  weekdays: checked,
  goLive: reader(datepicker, (e) => e.selected_date ?? ''),
  admins: reader(usersSelect, (e) => (e.selected_users ?? []).map((u): UserKey => `slack:${u}`)),
  desiredPolicies: reader(multiStaticSelect, (e) => (e.selected_options ?? []).map((o) => o.value)),
  extensionPassPct: number,
  onboardingPassPct: number,
  onboardingWarnPct: number,
  minOwners: number,
};

/**
 * What an unreadable field says: the field's own validation message where it names what the field needs
 * without quoting the value, else a plain "could not read this".
 */
const UNREADABLE: Record<SetupField, Message> = {
  locale: { key: 'setup.error.locale' },
  hosting: { key: 'setup.error.hosting' },
  serverUrl: { key: 'setup.error.server_url' },
  clientId: { key: 'setup.error.client_id' },
  clientSecret: { key: 'setup.error.secret_required' },
  digestEnabled: { key: 'setup.error.unreadable' },
  digestTime: { key: 'setup.error.digest_time' },
  timezone: { key: 'setup.error.unreadable' },
  weekdays: { key: 'setup.error.weekdays' },
  goLive: { key: 'setup.error.go_live' },
  admins: { key: 'setup.error.admins' },
  desiredPolicies: { key: 'setup.error.unreadable' },
  extensionPassPct: thresholdError('extensionPassPct'),
  onboardingPassPct: thresholdError('onboardingPassPct'),
  onboardingWarnPct: thresholdError('onboardingWarnPct'),
  minOwners: thresholdError('minOwners'),
};

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
/** `o[key]` when it is o's own property (a `__proto__` or `constructor` block id reads nothing inherited). */
const own = (o: unknown, key: string): unknown => (isRecord(o) && Object.hasOwn(o, key) ? o[key] : undefined);

/**
 * Reads the modal's state into a SetupInput. Total: an unreadable field (missing, or not its element's
 * shape) is left out of the input and listed in `unreadable`, so it is refused on its own field.
 */
function readSetupInput(view: unknown): { input: SetupInput; unreadable: SetupField[] } {
  const values = own(own(view, 'state'), 'values');
  const input: Record<string, unknown> = {};
  const unreadable: SetupField[] = [];
  for (const [f, read] of Object.entries(READERS) as [SetupField, (raw: unknown) => unknown][]) {
    const v = read(own(own(values, f), 'value'));
    if (v === undefined) unreadable.push(f);
    else input[f] = v;
  }
  return { input: input as SetupInput, unreadable };
}

/**
 * The setup modal's submit: invalid or unreadable fields get their messages in the modal (nothing saved);
 * otherwise the modal closes and the application layer saves, re-plans and confirms by DM or ephemeral.
 */
export function registerSetup(app: App, deps: SlackDeps): void {
  app.view(ACTIONS.setupSubmit, async ({ ack, body, view, client }) => {
    const teamId = body.team?.id ?? body.user.team_id ?? '';
    const logger = deps.logger.child({ view: ACTIONS.setupSubmit, user: body.user.id });
    let acked = false;
    let locale: Locale = deps.defaultLocale;
    try {
      const rolloutId = typeof view.private_metadata === 'string' ? view.private_metadata : '';
      const rollout = await deps.interactions.service.get(rolloutId);
      const { requester } = await slackRequester(deps, {
        client,
        userId: body.user.id,
        teamId,
        logger,
        ...(rollout ? { channel: rollout.conversation.channel, ephemeralIn: rollout.conversation.channel } : {}),
      });
      locale = deps.interactions.privateLocale(requester, rollout);
      const { input, unreadable } = readSetupInput(view);
      const outcome = await deps.interactions.submitSetup(requester, rolloutId, input);
      if (!outcome.ok || unreadable.length) {
        if (unreadable.length) logger.info({ fields: unreadable }, 'setup submission with unreadable fields refused');
        // Someone who may not edit this rollout (or a rollout that is gone) only hears that. Otherwise an
        // unreadable field's message wins on its field: a cross-field check there (client_id required for a
        // secret) only fired because the field was left out.
        const mayEdit = rollout !== undefined && deps.interactions.service.isAdmin(requester.actor, rollout);
        const messages: Partial<Record<SetupField, Rich>> = outcome.ok ? {} : { ...outcome.errors };
        if (mayEdit || outcome.ok) for (const f of unreadable) messages[f] = renderRich(locale, UNREADABLE[f]);
        const errors: Record<string, string> = {};
        // Modal errors are plain text: a person shows as @id (a mention cannot render there).
        for (const [f, msg] of Object.entries(messages))
          if (msg) errors[f] = plainText(msg, { command: (c) => `/bwprep ${c}`, user: (k) => `@${k.replace(/^[a-z]+:/, '')}` });
        acked = true;
        await ack({ response_action: 'errors', errors });
        return;
      }
      acked = true;
      await ack();
      await outcome.save();
    } catch (err) {
      const ref = randomUUID().slice(0, 8);
      logger.error({ err, ref }, 'setup submission failed');
      if (!acked) {
        await ack({ response_action: 'errors', errors: { locale: t(locale, 'error.internal', { ref }) } }).catch((ackErr: unknown) =>
          logger.warn({ err: ackErr, ref }, 'setup submission failed and the error could not be shown in the modal'),
        );
      }
    }
  });
}
