import { render } from '../../i18n';
import { buildReport, reportCsv, reportJson, reportMarkdown } from '../../views/report';
import type { SlackDeps } from '../app';
import type { Delegate } from './command';

const AUDIT_IN_REPORT = 200;

/** `/bwprep export csv|md|json`: the readiness report uploaded as a file to the rollout channel. */
export function exportDelegate(deps: SlackDeps): Delegate {
  return async ({ client, cmd, rollout }) => {
    if (cmd.name !== 'export') return;
    const locale = rollout.settings.locale;
    const audit = await deps.store.audit.list(rollout.id, { limit: AUDIT_IN_REPORT });
    const report = buildReport(deps.service.template, rollout, deps.clock.now(), locale, audit);
    // Slack shows a user id as a mention in messages but not inside files: keep ids plain there.
    const content =
      cmd.format === 'csv' ? reportCsv(report) : cmd.format === 'json' ? reportJson(report) : reportMarkdown(report, rollout.settings.timezone);
    const day = deps.clock.now().toISOString().slice(0, 10);
    const filename = `${render(locale, { key: 'report.filename' })}-${day}.${cmd.format}`;
    await client.filesUploadV2({
      channel_id: rollout.conversation.channel,
      content,
      filename,
      title: filename,
      initial_comment: render(locale, { key: 'report.uploaded', vars: { format: cmd.format.toUpperCase() } }),
    });
  };
}
