import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import dockerignore from '@balena/dockerignore';
import { Copy, DockerfileParser, Env, From, type Instruction, Label } from 'dockerfile-ast';
import semver from 'semver';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { close, createHttpServer, listen } from '../../src/http/server';
import { createLogger } from '../../src/logging/logger';
import { createMetrics } from '../../src/metrics';

/**
 * What the ops files do, not how they are spelled: .ci/run is run against stub tools; the Dockerfile is
 * parsed (dockerfile-ast), its Node image checked against package.json engines with semver, its CMD against
 * the build's real output paths, and its HEALTHCHECK command executed against real servers; .dockerignore is
 * evaluated with Docker's own matching rules (@balena/dockerignore).
 */
const root = path.resolve(__dirname, '..', '..');
const read = (rel: string) => readFileSync(path.join(root, rel), 'utf8');
const pkg = JSON.parse(read('package.json')) as { version: string; bin: Record<string, string>; scripts: Record<string, string>; engines: { node: string } };

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

/** The Dockerfile parsed by dockerfile-ast (the parser of the Dockerfile language server), split into its build stages. */
const dockerfile = DockerfileParser.parse(read('Dockerfile'));
const stages: { from: From; ins: Instruction[] }[] = [];
for (const ins of dockerfile.getInstructions()) {
  if (ins instanceof From) stages.push({ from: ins, ins: [] });
  else stages.at(-1)?.ins.push(ins);
}
const runtime = stages.at(-1)!;
/** A FROM's image after build-arg substitution (`${NODE_IMAGE}` → the ARG default). */
const imageOf = (from: From) => from.getExpandedArguments()[0]!.getValue();
/** Source paths of the COPYs that read the build context (not another stage). */
const contextSources = (ins: Instruction[]) =>
  ins.filter((i): i is Copy => i instanceof Copy && !i.getFlags().some((f) => f.getName() === 'from')).flatMap((c) => c.getArguments().map((a) => a.getValue()).slice(0, -1));

describe('Dockerfile', () => {
  it('every stage builds on one Node image whose version satisfies package.json engines', () => {
    const images = new Set(stages.map((s) => imageOf(s.from)));
    // One image: the native better-sqlite3 that the deps stage compiles must match the runtime's Node ABI.
    expect([...images]).toHaveLength(1);
    const [name, tag = ''] = [...images][0]!.split(':');
    expect(name).toBe('node');
    // A pinned x.y.z tag (node:22 or node:lts would float to whatever is current when the image is built).
    const version = semver.valid(/^\d+\.\d+\.\d+(?=-|$)/.exec(tag)?.[0]);
    expect(version, tag).not.toBeNull();
    expect(semver.satisfies(version!, pkg.engines.node), `${version} vs engines ${pkg.engines.node}`).toBe(true);
  });

  it('the image labels name the base image it is built on and the package version', () => {
    const labels = Object.fromEntries(
      runtime.ins.filter((i): i is Label => i instanceof Label).flatMap((l) => l.getProperties().map((p) => [p.getName(), p.getValue()])),
    );
    expect(labels['org.opencontainers.image.base.name']).toBe(`docker.io/library/${imageOf(runtime.from)}`);
    expect(labels['org.opencontainers.image.version']).toBe(pkg.version);
  });

  it('the CMD target is a file the TypeScript build writes, and it is the package bin', () => {
    const cmd = dockerfile.getCMDs().at(-1)!.getJSONStrings().map((s) => s.getJSONValue());
    expect(cmd[0]).toBe('node');
    const target = cmd[1]!;
    const cfgPath = path.join(root, 'tsconfig.build.json');
    const cfg = ts.getParsedCommandLineOfConfigFile(cfgPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
    const outputs = cfg.fileNames.flatMap((f) => ts.getOutputFileNames(cfg, f, false)).map((o) => path.relative(root, o));
    expect(outputs).toContain(target);
    expect(pkg.bin.bwprep).toBe(target);
    // The runtime stage gets the build's output directory.
    const outDir = path.relative(root, cfg.options.outDir!);
    const fromBuild = runtime.ins.filter((i): i is Copy => i instanceof Copy && i.getFlags().some((f) => f.getName() === 'from' && f.getValue() === 'build'));
    expect(fromBuild.flatMap((c) => c.getArguments().map((a) => a.getValue()).slice(0, -1))).toContain(`/app/${outDir}`);
  });

  it('the runtime image has what the app reads at run time: locales, templates, package.json', () => {
    const copied = contextSources(runtime.ins);
    for (const need of ['locales', 'templates', 'package.json']) {
      expect(copied).toContain(need);
      expect(existsSync(path.join(root, need))).toBe(true);
    }
  });

  describe('HEALTHCHECK, run as Docker would run it in the runtime stage (its ENV, only `node` on PATH)', () => {
    const hc = dockerfile.getHEALTHCHECKs().at(-1)!;
    /** The probe's argv: exec form is a JSON array, shell form runs under /bin/sh -c (as Docker does). */
    const argv = (): string[] => {
      const sub = hc.getSubcommand()!.getValue();
      expect(sub.toUpperCase()).toBe('CMD');
      const content = hc.getArgumentsContent()!; // the flags (--interval …) are not part of it
      const rest = content.slice(content.indexOf(sub) + sub.length).trim();
      return rest.startsWith('[') ? (JSON.parse(rest) as string[]) : ['/bin/sh', '-c', rest];
    };
    const env = Object.fromEntries(
      runtime.ins.filter((i): i is Env => i instanceof Env).flatMap((e) => e.getProperties().map((p) => [p.getName(), p.getValue() ?? ''])),
    ) as Record<string, string>;
    // A PATH with node and nothing else: a probe that needs curl or wget (absent from node:*-slim) fails here.
    const bin = path.join(tmp, 'healthcheck-bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(process.execPath, path.join(bin, 'node'));

    /** Runs the probe against 127.0.0.1:`port` (PORT as `docker run -e PORT=…` sets it); resolves to its exit code. */
    const probe = (port: number) =>
      new Promise<number | null>((resolve, reject) => {
        const [cmd, ...args] = argv();
        const child = spawn(cmd!, args, { env: { ...env, PORT: String(port), PATH: bin }, stdio: 'ignore', timeout: 10_000 });
        child.on('error', reject);
        child.on('close', (code) => resolve(code));
      });
    const serve = async (server: http.Server) => {
      const { port } = await listen(server, 0, '127.0.0.1');
      return { port, stop: () => close(server) };
    };

    it('exits 0 against a running bwprep HTTP server', async () => {
      const s = await serve(createHttpServer({ ready: {}, metrics: createMetrics({ processMetrics: false }), logger: createLogger({ level: 'silent' }) }));
      try {
        expect(await probe(s.port)).toBe(0);
      } finally {
        await s.stop();
      }
    });

    it('exits non-zero when the server answers 503', async () => {
      const s = await serve(http.createServer((_req, res) => res.writeHead(503).end()));
      try {
        expect(await probe(s.port)).not.toBe(0);
      } finally {
        await s.stop();
      }
    });

    it('exits non-zero when nothing listens on PORT', async () => {
      const s = await serve(http.createServer());
      await s.stop();
      expect(await probe(s.port)).not.toBe(0);
    });
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
    const sources = contextSources(stages.flatMap((s) => s.ins));
    expect(sources.length).toBeGreaterThan(3);
    for (const src of [...sources, 'src/cli/bin.ts', 'locales/en.json', 'templates', '.env.example']) {
      expect(ig.ignores(src), src).toBe(false);
    }
  });
});
