import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Bwprep } from '../app';
import type { Command } from '../commands/parse';
import type { Rollout } from '../core/checklist/model';
import { buildDigestModel } from '../core/digest/model';
import { isBwprepError } from '../core/errors';
import { render, t } from '../i18n';
import { buildCheckReportView } from '../views/check-report';
import { buildDigestView, digestText } from '../views/digest';
import { buildReport, reportCsv, reportJson, reportMarkdown } from '../views/report';
import { consoleUser, plain } from './text-renderer';

type Delegated = Extract<Command, { name: 'check' | 'digest' | 'setup' | 'export' }>;

/**
 * check, digest and export in the terminal console, on the same services as Slack: checks run against
 * Bitwarden with the BW_* settings, the digest is shown as a preview, the report is written to a file in
 * the current directory. `setup` stays with the environment (undefined → the console explains).
 */
export function consoleCommands(app: Bwprep, user: string, cwd: string = process.cwd()) {
  return async (cmd: Delegated, rollout: Rollout): Promise<string | undefined> => {
    const locale = rollout.settings.locale;
    const actor = { user, surface: 'console' as const };
    switch (cmd.name) {
      case 'check': {
        try {
          const run = await app.verification.run(rollout, { ...(cmd.step ? { stepIds: [app.service.step(cmd.step).id] } : {}), actor });
          const view = buildCheckReportView(app.template, run.results, run.transitions, locale, { single: Boolean(cmd.step) });
          return [
            `${view.title} · ${view.tally}`,
            ...view.lines.map((l) => `  ${l.icon} ${l.step.padEnd(3)} ${plain(l.summary)}${l.transition ? ` (${l.transition})` : ''}`),
            plain(view.footer),
          ].join('\n');
        } catch (e) {
          if (!isBwprepError(e)) throw e;
          return `⚠ ${plain(render(locale, e.userMessage, consoleUser))}\n  ${t(locale, 'check_report.failed')}`;
        }
      }
      case 'digest': {
        const model = buildDigestModel(app.template, rollout, { now: app.clock.now(), preview: true });
        return digestText(buildDigestView(app.template, model), { user: consoleUser });
      }
      case 'export': {
        const audit = await app.store.audit.list(rollout.id, { limit: 200 });
        const report = buildReport(app.template, rollout, app.clock.now(), locale, audit);
        const content = cmd.format === 'csv' ? reportCsv(report, consoleUser) : cmd.format === 'json' ? reportJson(report) : reportMarkdown(report, rollout.settings.timezone, consoleUser);
        const file = path.join(cwd, `${t(locale, 'report.filename')}-${app.clock.now().toISOString().slice(0, 10)}.${cmd.format}`);
        writeFileSync(file, content);
        return t(locale, 'console.exported', { file });
      }
      case 'setup':
        return undefined;
    }
  };
}
