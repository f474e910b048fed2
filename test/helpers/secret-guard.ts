/**
 * The suite-wide secret guard (issue 11 §5). Everything that leaves the app during the end-to-end tests —
 * every log line of the test loggers, every call the fake Slack records (arguments and response_url
 * posts), every request the fake Bitwarden records (except the token request's own client_secret) — is
 * reported here and scanned for every secret the tests configure or enter. `test/setup/secret-guard.ts`
 * (a vitest setup file) fails the test during which a hit was reported.
 *
 * Cheap by design: each report is scanned once, when it is made, with `String.includes` over a handful of
 * secrets; nothing is stored but the hits. A secret registered later is checked against later reports only,
 * so register entered secrets before sending them (module scope of the test file is fine).
 */
import { FAKE_SECRET } from '../fixtures/bitwarden/builders';
import { FAKE_APP_TOKEN, FAKE_BOT_TOKEN, FAKE_SIGNING_SECRET } from './slack-fixtures';

export interface SecretHit {
  /** Where the text came from, e.g. `log`, `slack:chat.postMessage`, `bitwarden:GET /public/members`. */
  source: string;
  /** The text around the hit, the secret itself replaced by `[SECRET]`. */
  excerpt: string;
}

export class SecretGuard {
  private readonly secrets = new Set<string>();
  private hits: SecretHit[] = [];

  /** Adds secret values to look for; values shorter than 8 characters are ignored (too likely by chance). */
  register(...values: (string | undefined | null)[]): void {
    for (const v of values) if (v && v.length >= 8) this.secrets.add(v);
  }

  /** Scans `text` (one log line, one serialized call) now; records a hit per secret found. */
  report(source: string, text: string): void {
    for (const s of this.secrets) {
      const i = text.indexOf(s);
      if (i >= 0)
        this.hits.push({
          source,
          excerpt: text
            .slice(Math.max(0, i - 60), i + s.length + 60)
            .split(s)
            .join('[SECRET]'),
        });
    }
  }

  /** The hits since the last call, and forgets them. */
  take(): SecretHit[] {
    const out = this.hits;
    this.hits = [];
    return out;
  }
}

/** The one guard of this test file's module graph (the fakes, the test loggers and the setup file share it). */
export const secretGuard = new SecretGuard();
secretGuard.register(FAKE_BOT_TOKEN, FAKE_SIGNING_SECRET, FAKE_APP_TOKEN, FAKE_SECRET);

/** Shorthand for tests that enter a secret (a setup dialog's API secret). */
export const registerSecret = (...values: string[]): void => secretGuard.register(...values);
export const reportToSecretGuard = (source: string, text: string): void => secretGuard.report(source, text);
