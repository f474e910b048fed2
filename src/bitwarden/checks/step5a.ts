import { hostOf } from '../errors';
import type { StepCheck } from './types';
import { evidence, isCloud, notApplicableOnCloud, outcome } from './util';

/**
 * 5a: the self-hosted server answers `/api/config` over valid TLS with a version (plain HTTP → warn). Logins recorded on this
 * server in the last 30 days (events 1000) are evidence that clients point at it.
 */
export const step5a: StepCheck = {
  stepId: '5a',
  needs: (h) => (isCloud(h) ? [] : ['config', 'events']),
  async run(ctx) {
    if (isCloud(ctx.hosting)) return notApplicableOnCloud(ctx);
    const host = hostOf(ctx.apiUrl);
    // A config endpoint that fails (5xx, timeout, odd body) makes this step `error`, not `fail`: it says
    // nothing certain about what clients see. TLS and unreachable servers stop the whole run.
    const version = (await ctx.snap.config()).version;
    const events = await ctx.snap.events();
    const users = Object.keys(events.logins).length;
    const ev = evidence(ctx, {
      endpoint: 'GET /api/config, GET /public/events',
      counts: { usersLoggedIn30d: users },
      detail: { version, host, tls: ctx.apiUrl.startsWith('https:') },
    });
    if (!version) return outcome('fail', 'check.5a.fail_version', { host }, ev);
    // DESIGN §5: over valid TLS. Plain HTTP works for bwprep but Bitwarden clients need HTTPS.
    if (!ctx.apiUrl.startsWith('https:')) return outcome('warn', 'check.5a.warn_http', { host, version, users }, ev);
    return outcome('pass', 'check.5a.pass', { host, version, users }, ev);
  },
};
