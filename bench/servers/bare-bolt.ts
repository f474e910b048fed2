/**
 * The baseline for the ack benchmark: a bare Bolt app (HTTPReceiver, same signing secret and token, same
 * fake Slack Web API for its auth.test) that acks `/bwprep` and every action and does nothing else.
 */
import '../lib/links';
import { allocationProfile, loopProbe } from '../lib/loop-probe';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';
import { FAKE_BOT_TOKEN, FAKE_SIGNING_SECRET } from '../../test/helpers/slack-fixtures';
import { exitWithParent, toParent } from '../lib/child';

async function main() {
  const apiUrl = process.env.BENCH_SLACK_API_URL;
  const receiver = new HTTPReceiver({ signingSecret: FAKE_SIGNING_SECRET, endpoints: '/slack/events', processBeforeResponse: false });
  const app = new App({
    signingSecret: FAKE_SIGNING_SECRET,
    token: FAKE_BOT_TOKEN,
    receiver,
    logLevel: LogLevel.WARN,
    ...(apiUrl ? { clientOptions: { slackApiUrl: apiUrl } } : {}),
  });
  app.command('/bwprep', async ({ ack }) => {
    await ack();
  });
  app.action(/.*/, async ({ ack }) => {
    await ack();
  });
  const server = await app.start({ port: 0, host: '127.0.0.1' });
  const addr = server.address() as AddressInfo;
  exitWithParent(async () => {
    await app.stop();
  });
  const url = `http://127.0.0.1:${addr.port}`;
  // For the start-up benchmark (no IPC there): one line on stdout.
  if (!process.send) process.stdout.write(`${JSON.stringify({ benchListening: url })}\n`);
  loopProbe('bare');
  allocationProfile('bare');
  toParent({ type: 'ready', url });
}

main().catch((e: unknown) => {
  toParent({ type: 'error', message: String(e) });
  process.exit(1);
});
