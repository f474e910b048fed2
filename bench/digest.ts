/**
 * Benchmark 4 — 1,000 rollouts' digests (DESIGN §8).
 *
 * Builds 1,000 rollouts in a real SQLite store through ChecklistService (varied language, hosting, time
 * zone, digest time, go-live date, owners, done/skipped/verified/failing steps, manual and overdue due dates,
 * check results) and gives each a digest history (30 days of readiness, the step states of the last digest,
 * the last slot two days back). Then runs the real Scheduler: `tick()` with the checks disabled (no
 * verifier), no reminders, and a recording publisher that renders each digest to Slack Block Kit
 * (src/slack/blocks/digest.ts) and serializes the chat.postMessage body, without a network call.
 * So one tick = for every rollout: schedule arithmetic, lease, planned due dates (go-live), the claim, the
 * digest model and view in its language, Block Kit, and the recorded state + audit entry.
 *
 * TICKS ticks run on consecutive weekdays (each posts 1,000 digests). Reported: time per tick and per
 * digest, peak memory during a tick (VmHWM after resetting it via /proc/self/clear_refs, and RSS sampled
 * every 5 ms), against the baseline: reading and JSON-parsing the 1,000 rollouts (store.rollouts.list()).
 *
 * Run alone: npx tsc -p tsconfig.bench.json && node dist-bench/bench/digest.js
 */
import './lib/links';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Actor, CheckRecord, ConversationRef, Hosting, Locale, MessageRef, Rollout, StepState } from '../src/core/checklist/model';
import { ChecklistService } from '../src/core/checklist/service';
import { Platforms } from '../src/interactions/platforms';
import type { Clock } from '../src/core/ports';
import { Scheduler } from '../src/scheduler/scheduler';
import { digestBlocks } from '../src/slack/blocks/digest';
import { openStore } from '../src/store';
import { loadTemplate } from '../src/templates';
import type { DigestView } from '../src/views/digest';
import { kbToMb, procStatusKb } from './lib/proc';
import { type BenchResult, runAsScript } from './lib/results';
import { median, round, type Row, rng } from './lib/stats';

const ROLLOUTS = Number(process.env.BENCH_DIGEST_ROLLOUTS ?? 1000);
const TICKS = Number(process.env.BENCH_DIGEST_TICKS ?? 3);
/** Rollouts the scheduler reads per page (its default is 100); a number ≥ ROLLOUTS reads them all at once, as before paging. */
const PAGE_SIZE = process.env.BENCH_DIGEST_PAGE_SIZE ? Number(process.env.BENCH_DIGEST_PAGE_SIZE) : undefined;
const DAY = 86_400_000;
/** A Wednesday, 14:00 UTC: every time zone below has had its 08:00/09:00 slot within the last 24 h. */
const NOW = Date.parse('2026-11-25T14:00:00.000Z');

const ZONES = ['Europe/Amsterdam', 'Europe/London', 'America/New_York', 'Asia/Tokyo'];
const HOSTINGS: Hosting[] = ['cloud-us', 'cloud-us', 'cloud-us', 'cloud-eu', 'cloud-eu', 'self-hosted'];
const OWNERS = Array.from({ length: 60 }, (_, i) => `slack:U0OWNER${String(i).padStart(3, '0')}`);

class MovableClock implements Clock {
  constructor(public at: number) {}
  now(): Date {
    return new Date(this.at);
  }
}

/**
 * A full GC before each memory measurement, so a tick's peak is the tick's and not garbage left over from
 * building the rollouts (V8 returns heap to the OS lazily). `--expose-gc` set at run time, since run.js
 * starts this file without flags.
 */
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const ymd = (t: number) => new Date(t).toISOString().slice(0, 10);

async function buildRollouts(service: ChecklistService, store: Awaited<ReturnType<typeof openStore>>, clock: MovableClock): Promise<void> {
  const rand = rng(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const template = service.template;
  for (let i = 0; i < ROLLOUTS; i++) {
    const admin: Actor = { user: pick(OWNERS), surface: 'slack', platformAdmin: true };
    clock.at = NOW - (10 + Math.floor(rand() * 30)) * DAY;
    const r = await service.ensureRollout(
      { platform: 'slack', workspace: `T0BENCH${i % 7}`, channel: `C0DIGEST${String(i).padStart(4, '0')}`, name: `rollout-${i}` },
      admin,
    );
    const hosting = pick(HOSTINGS);
    await service.updateSettings(
      r.id,
      {
        locale: (i % 3 === 0 ? 'nl' : 'en') as Locale,
        hosting,
        ...(hosting === 'self-hosted' ? { serverUrl: `https://vault${i}.example.com` } : {}),
        timezone: pick(ZONES),
        digestTime: pick(['08:00', '09:00']),
        weekdays: [1, 2, 3, 4, 5],
        ...(i % 4 !== 0 ? { goLive: ymd(NOW + (3 + Math.floor(rand() * 60)) * DAY) } : {}),
      },
      admin,
    );
    // Progress: a share of the applicable steps is assigned, done, skipped, given a due date.
    const fresh = (await service.get(r.id)) as Rollout;
    const applicable = template.steps.map((s) => s.id).filter((id) => fresh.steps[id]?.state === 'open');
    const progress = rand();
    const checks: { stepId: string; record: CheckRecord }[] = [];
    for (const [k, stepId] of applicable.entries()) {
      clock.at += Math.floor(rand() * 6 * 3_600_000);
      if (rand() < 0.7) await service.assign(r.id, stepId, pick(OWNERS), admin);
      if (rand() < 0.3) await service.setDue(r.id, stepId, ymd(NOW + Math.floor((rand() - 0.4) * 20) * DAY), admin);
      if (k / applicable.length < progress) {
        if (rand() < 0.08) await service.skip(r.id, stepId, 'not needed in this organization', admin);
        else await service.markDone(r.id, stepId, admin, rand() < 0.3 ? 'done, see ticket' : undefined);
      }
      const roll = rand();
      const at = new Date(clock.at).toISOString();
      if (roll < 0.25)
        checks.push({
          stepId,
          record: {
            status: 'pass',
            summary: { key: 'check.2a.pass', vars: { count: 3, policies_en: 'two-step login, master password' } },
            evidence: { endpoint: 'GET /public/policies', at },
            at,
          },
        });
      else if (roll < 0.35)
        checks.push({
          stepId,
          record: {
            status: 'fail',
            summary: { key: 'check.2a.fail', vars: { count: 1, total: 3, policies_en: 'single organization' } },
            evidence: { endpoint: 'GET /public/policies', at },
            at,
          },
        });
      else if (roll < 0.4)
        checks.push({
          stepId,
          record: {
            status: 'warn',
            summary: { key: 'check.4d.warn_owners', vars: { owners: 1, names: 'ada@example.com', min: 2 } },
            evidence: { endpoint: 'GET /public/members', at },
            at,
          },
        });
    }
    if (checks.length) await service.recordChecks(r.id, checks, admin);
    // Digest history: 30 days of readiness, the states at the last digest (a few differ from now), the last
    // slot two days back (so today's slot is due).
    const lastDay = NOW - 2 * DAY;
    await store.rollouts.update(r.id, (cur) => {
      const lastStates: Record<string, StepState> = {};
      for (const [id, rec] of Object.entries(cur.steps)) lastStates[id] = rand() < 0.2 && rec.state !== 'not_applicable' ? 'open' : rec.state;
      const history = Array.from({ length: 30 }, (_, d) => {
        const pct = Math.min(100, Math.round(progress * 100 * ((d + 1) / 30)));
        return { date: ymd(lastDay - (29 - d) * DAY), stepsPct: pct, hoursPct: Math.max(0, pct - 5) };
      });
      cur.digest = { lastSlot: `${ymd(lastDay)}T${cur.settings.digestTime}`, lastPostedAt: new Date(lastDay).toISOString(), lastStates, history };
      return { rollout: cur, audit: [] };
    });
  }
}

/** A Slack platform that renders each digest to its Block Kit request body and counts it, posting nothing. */
class RecordingPublisher {
  posted = 0;
  bytes = 0;
  maxBlocks = 0;
  async postDigest(conversation: ConversationRef, view: DigestView, card?: MessageRef) {
    const permalink = card ? `https://fake-team.slack.com/archives/${card.channel}/p${card.ts.replace('.', '')}` : undefined;
    const msg = digestBlocks(view, permalink);
    const body = JSON.stringify({ channel: conversation.channel, text: msg.text, blocks: msg.blocks, unfurl_links: false });
    this.posted += 1;
    this.bytes += body.length;
    this.maxBlocks = Math.max(this.maxBlocks, msg.blocks.length);
    return { ref: { platform: 'slack' as const, channel: conversation.channel, ts: `${Math.floor(NOW / 1000)}.${String(this.posted).padStart(6, '0')}` } };
  }
}

/** Resets VmHWM (Linux ≥ 4.0), so the next read is the peak since now. */
function resetPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

export async function runDigest(log: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): Promise<BenchResult> {
  const startedAt = new Date();
  const dir = mkdtempSync(path.join(tmpdir(), 'bwprep-digest-'));
  const store = await openStore(`sqlite://${path.join(dir, 'bwprep.sqlite')}`);
  try {
    const template = loadTemplate();
    const clock = new MovableClock(NOW);
    const service = new ChecklistService({
      store: store.rollouts,
      template,
      clock,
      defaults: { locale: 'en', hosting: 'cloud-us', timezone: 'Europe/Amsterdam', digestTime: '09:00', weekdays: [1, 2, 3, 4, 5] },
      globalAdmins: [],
    });
    log(`digest: building ${ROLLOUTS} rollouts …`);
    let t = performance.now();
    await buildRollouts(service, store, clock);
    const buildMs = performance.now() - t;

    // Baseline: read and JSON-parse every rollout (what any tick must do at least). Sampled 5 times here
    // and 3 times right before each tick, so it sees the same background load as the ticks.
    const listMs: number[] = [];
    const sampleList = async (n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        const all = await store.rollouts.list();
        out.push(performance.now() - t0);
        if (all.length !== ROLLOUTS) throw new Error(`expected ${ROLLOUTS} rollouts, listed ${all.length}`);
      }
      listMs.push(...out);
      return median(out);
    };
    await sampleList(5);
    // The baseline's own peak: list-and-parse the 1,000 rollouts once, measured like a tick.
    gc();
    const listRssBefore = kbToMb(procStatusKb('self', 'VmRSS'));
    const listHwmOk = resetPeak();
    const listed = await store.rollouts.list();
    const listPeakMb = listHwmOk ? kbToMb(procStatusKb('self', 'VmHWM')) : undefined;
    if (listed.length !== ROLLOUTS) throw new Error('list');
    // Context for the per-digest cost: one atomic rewrite of every rollout (read, clone, JSON, UPDATE … WHERE
    // version, in one SQLite transaction), as the scheduler's claim and record steps each do.
    const ids = (await store.rollouts.list()).map((r) => r.id);
    t = performance.now();
    for (const id of ids) await store.rollouts.update(id, (r) => ({ rollout: r, audit: [] }));
    const rewriteMs = performance.now() - t;

    const publisher = new RecordingPublisher();
    const platforms = new Platforms().register({
      id: 'slack',
      publisher: { postDigest: (c, v, card) => publisher.postDigest(c, v, card), postCheckReport: async () => undefined },
      directory: { profile: async (user) => ({ user, exists: true, platformAdmin: false }) },
      cards: { post: async () => ({ platform: 'slack', channel: 'C', ts: '1' }), update: async () => undefined, retire: async () => undefined },
    });
    const scheduler = new Scheduler({ store, service, template, clock, platforms, reminders: false, ...(PAGE_SIZE ? { pageSize: PAGE_SIZE } : {}) });
    const ticks: {
      ms: number;
      listMs: number;
      posted: number;
      late: number;
      skipped: Record<string, number>;
      peakHwmMb?: number | undefined;
      peakSampledMb: number;
      rssBeforeMb?: number | undefined;
      heapAfterMb: number;
    }[] = [];
    for (let k = 0; k < TICKS; k++) {
      clock.at = NOW + k * DAY; // Wed, Thu, Fri at 14:00 UTC
      const listBefore = await sampleList(3);
      gc();
      const rssBefore = kbToMb(procStatusKb('self', 'VmRSS'));
      const hwmOk = resetPeak();
      let peak = process.memoryUsage().rss;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 5);
      const before = publisher.posted;
      t = performance.now();
      const res = await scheduler.tick();
      const ms = performance.now() - t;
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      const skipped: Record<string, number> = {};
      for (const d of res.digests) if (d.skipped) skipped[d.skipped] = (skipped[d.skipped] ?? 0) + 1;
      ticks.push({
        ms: round(ms),
        listMs: round(listBefore),
        posted: publisher.posted - before,
        late: res.digests.filter((d) => d.posted && d.late).length,
        skipped,
        peakHwmMb: hwmOk ? kbToMb(procStatusKb('self', 'VmHWM')) : undefined,
        peakSampledMb: round(peak / 1048576, 1),
        rssBeforeMb: rssBefore,
        heapAfterMb: round(process.memoryUsage().heapUsed / 1048576, 1),
      });
      log(`digest: tick ${k + 1}/${TICKS}: ${publisher.posted - before} digests in ${round(ms, 0)} ms`);
    }
    const baselineMs = median(listMs);
    const tickMs = median(ticks.map((x) => x.ms));
    const posted = median(ticks.map((x) => x.posted));
    const perDigest = tickMs / Math.max(1, posted);
    const peakMb = Math.max(...ticks.map((x) => x.peakHwmMb ?? x.peakSampledMb));
    const rssBefore = ticks[0]?.rssBeforeMb;
    const rows: Row[] = [
      {
        bench: 'digest',
        metric: `tick: ${ROLLOUTS} digests (median of ${TICKS})`,
        value: round(tickMs, 0),
        baseline: round(baselineMs, 1),
        unit: 'ms',
        ratio: round(tickMs / baselineMs, 1),
        target: 'reported',
      },
      { bench: 'digest', metric: 'per digest', value: round(perDigest, 3), unit: 'ms' },
      {
        bench: 'digest',
        metric: `${ROLLOUTS} rollout rewrites (store.update)`,
        value: round(rewriteMs, 0),
        baseline: round(baselineMs, 1),
        unit: 'ms',
        ratio: round(rewriteMs / baselineMs, 1),
      },
      {
        bench: 'digest',
        metric: 'first tick (cold, plans due dates)',
        value: round(ticks[0]?.ms ?? NaN, 0),
        baseline: round(baselineMs, 1),
        unit: 'ms',
        ratio: round((ticks[0]?.ms ?? NaN) / baselineMs, 1),
      },
      {
        bench: 'digest',
        metric: 'peak RSS during a tick',
        value: peakMb,
        baseline: rssBefore,
        unit: 'MB',
        ratio: rssBefore ? round(peakMb / rssBefore) : undefined,
        target: '≤ 200 MB',
        met: peakMb <= 200,
      },
      {
        bench: 'digest',
        metric: 'peak RSS: list-and-parse baseline (after a GC)',
        value: listPeakMb,
        baseline: listRssBefore,
        unit: 'MB',
        ratio: listPeakMb && listRssBefore ? round(listPeakMb / listRssBefore) : undefined,
      },
      {
        bench: 'digest',
        metric: 'digests posted per tick',
        value: posted,
        baseline: ROLLOUTS,
        target: `all ${ROLLOUTS}`,
        met: ticks.every((x) => x.posted === ROLLOUTS),
      },
    ];
    const notes = [
      `through Scheduler.tick() (concurrency 4, checks disabled, no reminders) with a publisher that renders Slack Block Kit and serializes the post body; ${round(publisher.bytes / Math.max(1, publisher.posted), 0)} bytes per digest on average, at most ${publisher.maxBlocks} blocks`,
      `baseline: store.rollouts.list() reads and JSON-parses the ${ROLLOUTS} rollouts in ${round(baselineMs, 1)} ms (median of ${listMs.length} samples, ${round(Math.min(...listMs), 1)}–${round(Math.max(...listMs), 1)} ms; 5 before the ticks and 3 right before each tick)`,
      `ticks: ${ticks.map((x) => `${round(x.ms, 0)} ms = ${round(x.ms / x.listMs, 1)}× the list just before it (${x.posted} posted, ${x.late} late, peak ${x.peakHwmMb ?? x.peakSampledMb} MB)`).join('; ')}`,
      `peak memory is VmHWM after resetting it (/proc/self/clear_refs) before each tick; RSS sampled every 5 ms peaked at ${Math.max(...ticks.map((x) => x.peakSampledMb))} MB`,
      `one store.rollouts.update of every rollout takes ${round(rewriteMs, 0)} ms (${round(rewriteMs / ROLLOUTS, 2)} ms each); a scheduled digest does up to three (due-date planning when something changes, the claim, the record with its audit entry) plus a lease acquire and release`,
      `building the ${ROLLOUTS} rollouts through ChecklistService took ${round(buildMs / 1000, 1)} s (not part of any figure)`,
    ];
    return {
      bench: 'digest',
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(),
      rows,
      details: {
        rollouts: ROLLOUTS,
        pageSize: PAGE_SIZE ?? 'default (100)',
        ticks,
        baselineListMs: listMs,
        rewriteMs: round(rewriteMs),
        buildMs: round(buildMs),
      },
      notes,
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) runAsScript(runDigest);
