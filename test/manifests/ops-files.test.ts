import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import dockerignore from '@balena/dockerignore';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * What the ops files do, not how they are spelled: .ci/run is run against stub tools, the Dockerfile is
 * parsed into instructions and checked against the build's real output paths, and .dockerignore is
 * evaluated with Docker's own matching rules (@balena/dockerignore).
 */
const root = path.resolve(__dirname, '..', '..');
const read = (rel: string) => readFileSync(path.join(root, rel), 'utf8');
const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string>; scripts: Record<string, string>; engines: { node: string } };

const tmp = mkdtempSync(path.join(tmpdir(), 'bwprep-ops-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('README quick start', () => {
  it('is exactly two lines, npm ci && npm start and npm ci && npm test, and both scripts exist', () => {
    const section = read('README.md').split(/^## /m).find((s) => s.startsWith('Quick start')) ?? '';
    const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    expect(block.trim().split('\n')).toEqual(['npm ci && npm start', 'npm ci && npm test']);
    expect(pkg.scripts.start).toBeDefined();
    expect(pkg.scripts.test).toBeDefined();
  });
});

describe('.ci/run', () => {
  const file = path.join(root, '.ci/run');

  it('is executable and valid bash', () => {
    expect(statSync(file).mode & 0o111).not.toBe(0);
    execFileSync('bash', ['-n', file]);
  });

  /** Runs a copy of .ci/run with stub tools on PATH that record their calls; the stub npm exits `npmTestExit` on `npm test`. */
  function runCi(label: string, npmTestExit: number) {
    const dir = path.join(tmp, label);
    const bin = path.join(dir, 'bin');
    mkdirSync(path.join(dir, 'repo', '.ci'), { recursive: true });
    mkdirSync(bin, { recursive: true });
    copyFileSync(file, path.join(dir, 'repo', '.ci', 'run'));
    const log = path.join(dir, 'calls.log');
    const stub = (name: string, body: string) => {
      writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\necho "${name} $*" >> "${log}"\n${body}\n`);
      chmodSync(path.join(bin, name), 0o755);
    };
    stub('redis-cli', 'echo PONG');
    stub('pg_isready', 'exit 0');
    stub('psql', 'echo 1');
    stub('npm', `if [ "$1" = test ]; then exit ${npmTestExit}; fi; exit 0`);
    const res = spawnSync('bash', [path.join(dir, 'repo', '.ci', 'run')], {
      env: { PATH: `${bin}:/usr/bin:/bin`, HOME: dir },
      encoding: 'utf8',
    });
    const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
    return { status: res.status, stderr: res.stderr, calls };
  }

  it('with Redis and PostgreSQL up, runs npm ci then npm test in the repository and exits 0', () => {
    const r = runCi('ok', 0);
    expect(r.status).toBe(0);
    expect(r.calls.filter((c) => c.startsWith('npm '))).toEqual(['npm ci', 'npm test']);
    expect(r.calls.some((c) => c.startsWith('redis-server') || c.startsWith('pg_ctlcluster'))).toBe(false);
  });

  it('fails with the test run’s exit status when npm test fails', () => {
    const r = runCi('fail', 3);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('FAILED');
  });
});

/** Dockerfile instructions (continuation lines joined, comments dropped), split into stages. */
function dockerStages(text: string): { name: string; from: string; ins: { op: string; args: string }[] }[] {
  const logical = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const stages: { name: string; from: string; ins: { op: string; args: string }[] }[] = [];
  for (const line of logical) {
    const [op, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (op?.toUpperCase() === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ from: m?.[1] ?? args, name: m?.[2] ?? String(stages.length), ins: [] });
    } else if (stages.length) stages.at(-1)!.ins.push({ op: op!.toUpperCase(), args });
  }
  return stages;
}

const stages = dockerStages(read('Dockerfile'));

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  const runtime = stages.at(-1)!;
  const last = (op: string) => runtime.ins.filter((i) => i.op === op).at(-1)?.args;

  it('builds on a Node image that satisfies package.json engines', () => {
    const image = /^ARG NODE_IMAGE=node:(\d+)\.(\d+)\.(\d+)/m.exec(text);
    expect(image).not.toBeNull();
    const [maj, min, patch] = image!.slice(1).map(Number) as [number, number, number];
    // engines: >=20.18.1 <21 || >=22
    expect((maj === 20 && min * 1000 + patch >= 18_001) || maj >= 22).toBe(true);
  });

  it('the CMD target is a file the TypeScript build writes, and it is the package bin', () => {
    const cmd = JSON.parse(last('CMD') ?? '[]') as string[];
    expect(cmd[0]).toBe('node');
    const target = cmd[1]!;
    const cfgPath = path.join(root, 'tsconfig.build.json');
    const cfg = ts.getParsedCommandLineOfConfigFile(cfgPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
    const outputs = cfg.fileNames.flatMap((f) => ts.getOutputFileNames(cfg, f, false)).map((o) => path.relative(root, o));
    expect(outputs).toContain(target);
    expect(pkg.bin.bwprep).toBe(target);
    // The runtime stage gets the build's output directory.
    const outDir = path.relative(root, cfg.options.outDir!);
    expect(runtime.ins.some((i) => i.op === 'COPY' && i.args.includes('--from=build') && i.args.split(/\s+/).includes(`/app/${outDir}`))).toBe(true);
  });

  it('the runtime image has what the app reads at run time: locales, templates, package.json', () => {
    const copied = runtime.ins.filter((i) => i.op === 'COPY' && !i.args.includes('--from=')).flatMap((i) => i.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1));
    for (const need of ['locales', 'templates', 'package.json']) {
      expect(copied).toContain(need);
      expect(existsSync(path.join(root, need))).toBe(true);
    }
  });

  it('runs as a non-root user, with a health check that needs no curl', () => {
    const user = last('USER');
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    expect(last('HEALTHCHECK')).toContain('/healthz');
    expect(text).not.toMatch(/\b(curl|wget)\b/);
  });
});

describe('.dockerignore (Docker’s matching rules)', () => {
  const ig = dockerignore({ ignorecase: false }).add(read('.dockerignore'));

  it('keeps secrets, local state and build output out of the build context', () => {
    for (const p of ['.env', '.env.production', 'data/bwprep.sqlite', 'bwprep.sqlite', 'bwprep.sqlite-wal', 'node_modules/pino/package.json', '.git/HEAD', 'dist/cli/bin.js', 'npm-debug.log']) {
      expect(ig.ignores(p), p).toBe(true);
    }
  });

  it('sends every file a COPY in the Dockerfile needs', () => {
    const sources = stages.flatMap((s) => s.ins).filter((i) => i.op === 'COPY' && !i.args.includes('--from=')).flatMap((i) => i.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1));
    expect(sources.length).toBeGreaterThan(3);
    for (const src of [...sources, 'src/cli/bin.ts', 'locales/en.json', 'templates', '.env.example']) {
      expect(ig.ignores(src), src).toBe(false);
    }
  });
});
