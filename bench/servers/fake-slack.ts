/**
 * The fake Slack Web API (test/fakes/slack-api.ts) in its own process, so its work (decoding, Block Kit
 * validation) does not run on the event loop of the app under test. The fake keeps every call, message and
 * response_url post in memory; this process tallies them and calls reset() every RESET_MS so memory stays
 * bounded over a load run (reset forgets messages too, which the fake tolerates: chat.update of an unknown
 * ts succeeds in lenient mode).
 */
import '../lib/links';
import { startFakeSlackApi } from '../../test/fakes/slack-api';
import { exitWithParent, toParent } from '../lib/child';

const RESET_MS = 500;

async function main() {
  const slack = await startFakeSlackApi();
  const calls: Record<string, number> = {};
  const failures: Record<string, number> = {};
  const responses = { posted: 0, rejected: 0 };
  const tally = () => {
    for (const c of slack.calls()) {
      calls[c.method] = (calls[c.method] ?? 0) + 1;
      if (c.response.ok !== true) {
        const k = `${c.method}:${String(c.response.error ?? c.status)}`;
        failures[k] = (failures[k] ?? 0) + 1;
      }
    }
    for (const r of slack.responses()) {
      responses.posted += 1;
      if (r.rejected) responses.rejected += 1;
    }
    slack.reset();
  };
  const timer = setInterval(tally, RESET_MS);
  process.on('message', (m: { type?: string }) => {
    if (m?.type !== 'stats') return;
    tally();
    toParent({ type: 'stats', calls: { ...calls }, failures: { ...failures }, responses: { ...responses } });
  });
  exitWithParent(async () => {
    clearInterval(timer);
    await slack.close();
  });
  toParent({ type: 'ready', url: slack.url, apiUrl: slack.apiUrl });
}

main().catch((e: unknown) => {
  toParent({ type: 'error', message: String(e) });
  process.exit(1);
});
