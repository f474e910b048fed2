import { Writable } from 'node:stream';
import { bitwardenEndpoints, type BitwardenEndpoints } from '../../src/config/load';
import { DEFAULT_DESIRED_POLICIES, DEFAULT_THRESHOLDS, type Hosting } from '../../src/core/checklist/model';
import type { KeyValueStore } from '../../src/core/ports';
import type { OrgCredentials, VerificationSettings } from '../../src/core/verification/ports';
import { memoryKeyValueStore } from '../../src/bitwarden/memory-kv';
import { BitwardenVerification, type BitwardenVerificationDeps } from '../../src/bitwarden/verifier';
import { createLogger, type Logger } from '../../src/logging/logger';
import type { FakeBitwardenServer } from '../fakes/bitwarden-server';

export const NOW = new Date('2026-11-25T09:00:00.000Z');

import { TestClock } from '../helpers/clock';
import { reportToSecretGuard } from '../helpers/secret-guard';

export { TestClock };

/** Endpoints of the fake for a hosting: cloud uses explicit API/identity URLs, self-hosted a base URL. */
export function fakeEndpoints(server: FakeBitwardenServer, hosting: Hosting): BitwardenEndpoints {
  if (hosting === 'self-hosted') return bitwardenEndpoints('self-hosted', server.url);
  return bitwardenEndpoints(hosting, undefined, { apiUrl: server.url, identityUrl: `${server.url}/identity` });
}

export function settingsFor(hosting: Hosting, server?: FakeBitwardenServer): VerificationSettings {
  return {
    hosting,
    ...(hosting === 'self-hosted' && server ? { serverUrl: server.url } : {}),
    desiredPolicies: [...DEFAULT_DESIRED_POLICIES],
    thresholds: { ...DEFAULT_THRESHOLDS },
  };
}

export function credentialsOf(server: FakeBitwardenServer): OrgCredentials {
  return { clientId: server.clientId, clientSecret: server.fixture.clientSecret };
}

/** Captures pino output in memory. */
export function memoryLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      reportToSecretGuard('log', String(chunk));
      cb();
    },
  });
  // No `secrets` option: the test proves the client never hands a secret to the logger at all.
  return { logger: createLogger({ level: 'trace', destination: stream }), lines };
}

export interface VerifyHarness {
  verification: BitwardenVerification;
  kv: KeyValueStore;
  clock: TestClock;
  run(stepIds?: string[], hosting?: Hosting): ReturnType<BitwardenVerification['verify']>;
}

export const ALL_STEPS = ['1a', '2a', '2b', '3a', '3b', '3c', '4a', '4b', '4c', '4d', '4e', '5a', '5b', '6'];

export function makeVerification(server: FakeBitwardenServer, hosting: Hosting, deps: Partial<BitwardenVerificationDeps> = {}): VerifyHarness {
  const clock = (deps.clock as TestClock | undefined) ?? new TestClock();
  const kv = deps.kv ?? memoryKeyValueStore();
  const verification = new BitwardenVerification({
    kv,
    clock,
    endpoints: () => fakeEndpoints(server, hosting),
    retry: { baseDelayMs: 2 },
    ...deps,
  });
  return {
    verification,
    kv,
    clock,
    run: (stepIds = ALL_STEPS, h = hosting) =>
      verification.verify({ rolloutId: 'test', settings: settingsFor(h, server), credentials: credentialsOf(server), stepIds }),
  };
}
