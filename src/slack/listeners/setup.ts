import type { App, ViewOutput, ViewStateValue } from '@slack/bolt';
import type { Locale, RolloutSettings } from '../../core/checklist/model';
import { type SetupField, type SetupInput, validateSetup } from '../../core/checklist/settings';
import { replanDueDates } from '../../core/digest/planning';
import { BwprepError } from '../../core/errors';
import { render, t } from '../../i18n';
import { encryptSecret } from '../../store/crypto';
import { ACTIONS } from '../../views/actions';
import type { SlackDeps } from '../app';
import { setupModal } from '../blocks/setup';
import { getProfile, slackActor } from '../context';
import { describeError } from '../errors';
import type { Delegate } from './command';

/** `/bwprep setup` (rollout admins): opens the settings modal, pre-filled; the time zone defaults to the admin's Slack tz. */
export function setupDelegate(deps: SlackDeps): Delegate {
  return async ({ client, command, rollout, actor, profile, locale }) => {
    if (!deps.service.isAdmin(actor, rollout)) throw new BwprepError('forbidden', { key: 'error.forbidden.settings' });
    const timezone = rollout.settings.setupAt ? rollout.settings.timezone : (profile.tz ?? rollout.settings.timezone);
    await client.views.open({
      trigger_id: command.trigger_id,
      view: setupModal(rollout.id, rollout.settings, locale, { timezone, encryptionAvailable: Boolean(deps.encryptionKey) }),
    });
  };
}

type Values = ViewOutput['state']['values'];

function field(values: Values, block: SetupField): ViewStateValue | undefined {
  return values[block]?.value;
}

/** Reads the modal's state into a SetupInput; block ids are the field names. */
export function readSetupInput(values: Values): SetupInput {
  const text = (b: SetupField) => field(values, b)?.value ?? '';
  const selected = (b: SetupField) => (field(values, b)?.selected_options ?? []).map((o) => o.value);
  return {
    locale: field(values, 'locale')?.selected_option?.value ?? '',
    hosting: field(values, 'hosting')?.selected_option?.value ?? '',
    serverUrl: text('serverUrl'),
    clientId: text('clientId'),
    clientSecret: text('clientSecret'),
    digestTime: field(values, 'digestTime')?.selected_time ?? '',
    timezone: text('timezone'),
    weekdays: selected('weekdays'),
    goLive: field(values, 'goLive')?.selected_date ?? '',
    admins: (field(values, 'admins')?.selected_users ?? []).map((u) => `slack:${u}`),
    desiredPolicies: selected('desiredPolicies'),
    digestEnabled: selected('digestEnabled').includes('on'),
    extensionPassPct: text('extensionPassPct'),
    onboardingPassPct: text('onboardingPassPct'),
    onboardingWarnPct: text('onboardingWarnPct'),
    minOwners: text('minOwners'),
  };
}

/**
 * The modal's submit: every invalid field gets its message in the modal and nothing is saved; otherwise the
 * modal closes, the settings are saved through the one service (the secret encrypted first, never echoed or
 * logged), due dates are re-planned from go-live, the card is refreshed and the admin gets a confirmation.
 */
export function registerSetup(app: App, deps: SlackDeps): void {
  app.view(ACTIONS.setupSubmit, async ({ ack, body, view, client }) => {
    const userId = body.user.id;
    let locale: Locale = deps.defaults.locale;
    try {
      const profile = await getProfile(client, deps.store.kv, userId);
      const rollout = await deps.service.get(view.private_metadata);
      locale = profile.locale ?? rollout?.settings.locale ?? locale;
      const fieldError = (f: SetupField, m: { key: string; vars?: Record<string, string | number> }) => ({ [f]: render(locale, m) });
      if (!rollout) {
        await ack({ response_action: 'errors', errors: fieldError('locale', { key: 'error.unknown_rollout' }) });
        return;
      }
      const actor = slackActor(userId, profile);
      if (!deps.service.isAdmin(actor, rollout)) {
        await ack({ response_action: 'errors', errors: fieldError('admins', { key: 'setup.error.forbidden' }) });
        return;
      }
      const now = deps.clock.now();
      const result = validateSetup(readSetupInput(view.state.values), rollout.settings, now);
      if (result.newKey && !deps.encryptionKey) result.errors.clientSecret = { key: 'setup.error.no_encryption_key' };
      const errorKeys = Object.keys(result.errors) as SetupField[];
      if (errorKeys.length) {
        const errors: Record<string, string> = {};
        for (const f of errorKeys) errors[f] = render(locale, result.errors[f]!);
        await ack({ response_action: 'errors', errors });
        return;
      }
      await ack();

      const patch: Partial<RolloutSettings> = { ...result.patch, setupAt: now.toISOString() };
      if (result.newKey && deps.encryptionKey) {
        patch.credentials = { clientId: result.newKey.clientId, secret: encryptSecret(deps.encryptionKey, result.newKey.clientSecret) };
      } else if (result.clearKey) {
        patch.credentials = undefined;
      }
      const before = rollout.settings;
      const saved = await deps.service.updateSettings(rollout.id, patch, actor);
      const lines = [`✅ ${t(locale, 'setup.saved')}`];
      if (result.newKey) lines.push(t(locale, 'setup.saved_key', { clientId: result.newKey.clientId }));
      if (result.clearKey) lines.push(t(locale, 'setup.removed_key'));
      const s = saved.rollout.settings;
      if (s.goLive && (s.goLive !== before.goLive || s.hosting !== before.hosting || String(s.weekdays) !== String(before.weekdays) || s.timezone !== before.timezone)) {
        const { changes } = await replanDueDates(deps.store.rollouts, deps.service.template, rollout.id, deps.clock, actor, { mode: 'full' });
        if (changes.length) lines.push(t(locale, 'setup.replanned', { count: changes.length }));
      }
      await deps.cards.refresh(client, rollout.id);
      await client.chat
        .postEphemeral({ channel: rollout.conversation.channel, user: userId, text: lines.join('\n') })
        .catch(() => client.chat.postMessage({ channel: userId, text: lines.join('\n') }));
    } catch (e) {
      const log = deps.logger.child({ view: ACTIONS.setupSubmit, user: userId });
      const text = describeError(e, locale, log, deps.metrics);
      // Before the ack the modal can show it; after, the admin hears it by DM.
      await ack({ response_action: 'errors', errors: { locale: text } }).catch(() => client.chat.postMessage({ channel: userId, text }).catch(() => undefined));
    }
  });
}
