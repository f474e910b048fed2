import { ConfigError, loadConfig } from '../config/load';
import { type CheckStatus, DEFAULT_DESIRED_POLICIES, DEFAULT_THRESHOLDS, type Evidence, type Locale } from '../core/checklist/model';
import { findStep } from '../core/checklist/template';
import { BwprepError, isBwprepError } from '../core/errors';
import type { OrgCredentials, VerificationSettings } from '../core/verification/ports';
import { isLocale, render, t } from '../i18n';
import { type BitwardenTimeouts, type BitwardenRetryPolicy } from '../bitwarden/client';
import { memoryKeyValueStore } from '../bitwarden/memory-kv';
import { type BitwardenVerification, createBitwardenVerifier } from '../bitwarden/verifier';
import { loadTemplate } from '../templates';

export interface CheckCommandDeps {
  env: NodeJS.ProcessEnv;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Optional HTTP tuning (tests use short timeouts and retry delays). */
  timeouts?: Partial<BitwardenTimeouts>;
  retry?: Partial<BitwardenRetryPolicy>;
}

interface Args {
  step?: string;
  json: boolean;
  help: boolean;
  lang?: Locale;
}

type ArgError = { error: { key: string; vars?: Record<string, string> } };

const ICONS: Record<CheckStatus, string> = { pass: '✓', fail: '✗', warn: '!', manual: '?', error: '⚠', not_applicable: '–' };

/** `--lang` as given anywhere in argv (so `--help` and argument errors use it too), if valid. */
function langOf(argv: string[]): Locale | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = a.startsWith('--lang=') ? a.slice('--lang='.length) : a === '--lang' ? argv[i + 1] : undefined;
    if (isLocale(v)) return v;
  }
  return undefined;
}

function parseArgs(argv: string[]): Args | ArgError {
  const out: Args = { json: argv.includes('--json'), help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [name, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    if (name === '--json') out.json = true;
    else if (name === '--help' || name === '-h') out.help = true;
    else if (name === '--step') {
      const v = value();
      if (!v || v.startsWith('--')) return { error: { key: 'check.cli.needs_step' } };
      out.step = v;
    } else if (name === '--lang') {
      const v = value();
      if (!isLocale(v)) return { error: { key: 'check.cli.bad_lang' } };
      out.lang = v;
    } else return { error: { key: 'check.cli.unknown_argument', vars: { arg: a } } };
  }
  return out;
}

/** Pads by code points, so the status icons line up. */
function pad(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - [...s].length));
}

/**
 * `bwprep check [--step ID] [--json] [--lang nl|en] [--help]`: verifies the organization of BW_* against
 * the checklist without a chat platform or store. Exit 1: a check fails; else 2: a check could not be done
 * (`error`), or the run could not start (arguments, configuration, key, server); else 0. With `--json`
 * every outcome is JSON on stdout: `{"results":[…]}` or `{"error":{"code","message"}}`.
 */
export async function runCheckCommand(argv: string[], deps: CheckCommandDeps): Promise<number> {
  let locale: Locale = langOf(argv) ?? (isLocale(deps.env.BWPREP_LOCALE) ? deps.env.BWPREP_LOCALE : 'nl');
  const json = argv.includes('--json');
  /** An error before or instead of results: JSON on stdout with --json, the text on stderr always. */
  const fail = (code: string, message: string, usage = false): number => {
    if (json) deps.stdout(`${JSON.stringify({ error: { code, message } })}\n`);
    deps.stderr(`${message}${usage ? `\n${t(locale, 'check.cli.usage')}` : ''}\n`);
    return 2;
  };
  const args = parseArgs(argv);
  if ('error' in args) return fail('bad_usage', t(locale, args.error.key, args.error.vars), true);
  if (args.help) {
    deps.stdout(`${t(locale, 'check.cli.help')}\n`);
    return 0;
  }

  let config;
  try {
    config = loadConfig(deps.env);
  } catch (e) {
    if (e instanceof ConfigError) return fail('invalid_setting', e.render(locale));
    throw e;
  }
  if (!args.lang) locale = config.defaults.locale;

  const template = loadTemplate();
  let stepIds = template.steps.map((s) => s.id);
  if (args.step) {
    const s = findStep(template, args.step);
    if (!s) return fail('unknown_step', t(locale, 'check.cli.unknown_step', { step: args.step, steps: stepIds.join(', ') }));
    stepIds = [s.id];
  }

  const bw = config.bitwarden;
  const failWith = (e: BwprepError): number => fail(e.code, t(locale, 'check.cli.failed', { message: render(locale, e.userMessage) }));
  // The terminal wording: no chat command, only the variables.
  if (!bw.clientId || !bw.clientSecret) return failWith(new BwprepError('no_credentials', { key: 'check.cli.no_credentials' }));
  const credentials: OrgCredentials = { clientId: bw.clientId, clientSecret: bw.clientSecret };
  const settings: VerificationSettings = {
    hosting: bw.hosting,
    ...(bw.serverUrl ? { serverUrl: bw.serverUrl } : {}),
    desiredPolicies: [...DEFAULT_DESIRED_POLICIES],
    thresholds: { ...DEFAULT_THRESHOLDS },
  };

  let verifier: BitwardenVerification;
  try {
    verifier = createBitwardenVerifier(config, {
      kv: memoryKeyValueStore(),
      ...(deps.timeouts ? { timeouts: deps.timeouts } : {}),
      ...(deps.retry ? { retry: deps.retry } : {}),
    });
  } catch (e) {
    if (isBwprepError(e)) return failWith(e);
    throw e;
  }

  let outcomes;
  try {
    outcomes = await verifier.verify({ rolloutId: 'cli', settings, credentials, stepIds });
  } catch (e) {
    if (isBwprepError(e)) return failWith(e);
    throw e;
  } finally {
    await verifier.close();
  }

  const rows = stepIds.map((step) => {
    const o = outcomes[step]!;
    return { step, status: o.status, summary: render(locale, o.summary), evidence: o.evidence as Evidence };
  });

  if (args.json) {
    deps.stdout(`${JSON.stringify({ results: rows })}\n`);
  } else {
    const head = { step: t(locale, 'check.cli.step'), status: t(locale, 'check.cli.status'), summary: t(locale, 'check.cli.summary') };
    const statusText = (s: CheckStatus) => `${ICONS[s]} ${t(locale, `check_status.${s}`)}`;
    const w1 = Math.max([...head.step].length, ...rows.map((r) => [...r.step].length));
    const w2 = Math.max([...head.status].length, ...rows.map((r) => [...statusText(r.status)].length));
    const lines = [
      `${pad(head.step, w1)}  ${pad(head.status, w2)}  ${head.summary}`,
      `${'-'.repeat(w1)}  ${'-'.repeat(w2)}  ${'-'.repeat([...head.summary].length)}`,
      ...rows.map((r) => `${pad(r.step, w1)}  ${pad(statusText(r.status), w2)}  ${r.summary}`),
    ];
    const count = (s: CheckStatus) => rows.filter((r) => r.status === s).length;
    lines.push(
      '',
      t(locale, 'check.cli.totals', {
        pass: count('pass'),
        warn: count('warn'),
        fail: count('fail'),
        manual: count('manual'),
        na: count('not_applicable'),
        error: count('error'),
      }),
    );
    deps.stdout(`${lines.join('\n')}\n`);
  }
  // Exit codes (README "Exit codes", `check --help`): a failing check outranks one that could not be done.
  if (rows.some((r) => r.status === 'fail')) return 1;
  if (rows.some((r) => r.status === 'error')) return 2;
  return 0;
}
