import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..', '..');
const read = (rel: string) => readFileSync(path.join(root, rel), 'utf8');
const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string>; scripts: Record<string, string>; engines: { node: string } };

describe('README quick start and .ci/run agree', () => {
  const readme = read('README.md');

  it('the quick start is exactly two lines: npm ci && npm start, npm ci && npm test', () => {
    const section = readme.split(/^## /m).find((s) => s.startsWith('Quick start')) ?? '';
    const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    expect(block.trim().split('\n')).toEqual(['npm ci && npm start', 'npm ci && npm test']);
    expect(pkg.scripts.start).toBeDefined();
    expect(pkg.scripts.test).toBeDefined();
  });

  it('.ci/run is executable bash with strict mode and runs exactly the README test line', () => {
    const file = path.join(root, '.ci/run');
    expect(statSync(file).mode & 0o111).not.toBe(0);
    const script = read('.ci/run');
    expect(script.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(script).toMatch(/^set -euo pipefail$/m);
    expect(script).toMatch(/^npm ci && npm test \|\| status=\$\?$/m);
    expect(script).toContain('redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no');
    expect(script).toContain('pg_ctlcluster --skip-systemctl-redirect');
    expect(script).toContain("createdb -h 127.0.0.1 -U postgres test");
    execFileSync('bash', ['-n', file]); // syntax check
  });
});

describe('Dockerfile', () => {
  const df = read('Dockerfile');

  it('is multi-stage on a pinned node 20 bookworm-slim image that satisfies engines', () => {
    const image = /^ARG NODE_IMAGE=node:(\d+)\.(\d+)\.(\d+)-bookworm-slim$/m.exec(df);
    expect(image, 'pinned node:20.x.y-bookworm-slim').not.toBeNull();
    const [maj, min, patch] = (image as RegExpExecArray).slice(1).map(Number) as [number, number, number];
    expect(maj).toBe(20);
    expect(min * 1000 + patch).toBeGreaterThanOrEqual(18 * 1000 + 1); // engines: >=20.18.1
    expect(df.match(/^FROM \$\{NODE_IMAGE\} AS \w+$/gm)).toHaveLength(3);
    expect(df).toMatch(/python3 make g\+\+/);
    expect(df).toMatch(/RUN npm ci\n/);
    expect(df).toMatch(/RUN npm run build/);
    expect(df).toMatch(/npm ci --omit=dev/);
  });

  it('runs the CLI entry point as the non-root node user with a /healthz check', () => {
    expect(df).toMatch(/^USER node$/m);
    expect(df).toMatch(/^ENV NODE_ENV=production/m);
    expect(df).toMatch(/^EXPOSE 3000$/m);
    expect(df).toMatch(/^VOLUME \/app\/data$/m);
    expect(df).toMatch(/^HEALTHCHECK [\s\S]*\/healthz/m);
    expect(df).not.toMatch(/curl|wget/);
    expect(df).toMatch(/^CMD \["node", ?"dist\/cli\/bin\.js"\]$/m);
    expect(pkg.bin.bwprep).toBe('dist/cli/bin.js');
    for (const dir of ['locales', 'templates']) {
      expect(existsSync(path.join(root, dir))).toBe(true);
      expect(df).toContain(`COPY --chown=node:node ${dir} ./${dir}`);
    }
    expect(df).toMatch(/org\.opencontainers\.image\.title="bwprep"/);
  });

  it('.dockerignore keeps secrets, state and dependencies out of the build context', () => {
    const ignore = read('.dockerignore').split('\n').map((l) => l.trim());
    for (const entry of ['.env', 'node_modules', 'data', '.git', '*.sqlite', 'dist']) expect(ignore).toContain(entry);
    expect(ignore).not.toContain('package-lock.json');
  });
});
