import type { App, ViewOutput, ViewStateValue } from '@slack/bolt';
import type { SetupField, SetupInput } from '../../core/checklist/settings';
import { ACTIONS } from '../../views/actions';
import { plainText } from '../../views/rich';
import { t } from '../../i18n';
import { randomUUID } from 'node:crypto';
import type { SlackDeps } from '../app';
import { slackRequester } from '../requester';

type Values = ViewOutput['state']['values'];

function field(values: Values, block: SetupField): ViewStateValue | undefined {
  return values[block]?.value;
}

/** Reads the modal's state into a SetupInput; block ids are the field names. */
function readSetupInput(values: Values): SetupInput {
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
 * The setup modal's submit: invalid fields get their messages in the modal (nothing saved); otherwise the
 * modal closes and the application layer saves, re-plans and confirms by DM or ephemeral.
 */
export function registerSetup(app: App, deps: SlackDeps): void {
  app.view(ACTIONS.setupSubmit, async ({ ack, body, view, client }) => {
    const teamId = body.team?.id ?? body.user.team_id ?? '';
    const logger = deps.logger.child({ view: ACTIONS.setupSubmit, user: body.user.id });
    let acked = false;
    try {
      const rollout = await deps.interactions.service.get(view.private_metadata);
      const { requester } = await slackRequester(deps, {
        client,
        userId: body.user.id,
        teamId,
        logger,
        ...(rollout ? { channel: rollout.conversation.channel, ephemeralIn: rollout.conversation.channel } : {}),
      });
      const outcome = await deps.interactions.submitSetup(requester, view.private_metadata, readSetupInput(view.state.values));
      if (!outcome.ok) {
        const errors: Record<string, string> = {};
        for (const [f, msg] of Object.entries(outcome.errors)) // Modal errors are plain text: a person shows as @id (a mention cannot render there).
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
        await ack({ response_action: 'errors', errors: { locale: t(deps.defaultLocale, 'error.internal', { ref }) } }).catch((ackErr: unknown) =>
          logger.warn({ err: ackErr, ref }, 'setup submission failed and the error could not be shown in the modal'),
        );
      }
    }
  });
}
