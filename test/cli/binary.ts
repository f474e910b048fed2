import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

const ROOT = join(__dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

export interface BuiltBinary {
  /** `dist/cli/bin.js` of this build. */
  bin: string;
  /** Runs `bwprep <args>` in a fresh, empty working directory (no .env) with exactly `env` (plus PATH). */
  run(args: string[], env?: Record<string, string>, opts?: { cwd?: string }): Promise<{ code: number | null; stdout: string; stderr: string }>;
  remove(): void;
}

/**
 * Builds the real `bwprep` binary (every file of src/, transpiled to CommonJS as `npm run build` does,
 * without type-checking) into a temp folder next to links to node_modules, locales/, templates/ and
 * package.json, so a child `node` process runs exactly what `node dist/cli/bin.js` runs.
 */
export function buildBinary(): BuiltBinary {
  const out = mkdtempSync(join(tmpdir(), 'bwprep-bin-'));
  for (const file of sources(join(ROOT, 'src'))) {
    const target = join(out, 'dist', relative(join(ROOT, 'src'), file)).replace(/\.ts$/, '.js');
    const js = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, resolveJsonModule: true },
      fileName: file,
    }).outputText;
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, js);
  }
  for (const name of ['node_modules', 'locales', 'templates', 'package.json']) symlinkSync(join(ROOT, name), join(out, name));
  const bin = join(out, 'dist', 'cli', 'bin.js');
  return {
    bin,
    run: (args, env = {}, opts = {}) => {
      const cwd = opts.cwd ?? mkdtempSync(join(tmpdir(), 'bwprep-cwd-'));
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [bin, ...args], {
          cwd,
          env: { PATH: process.env.PATH ?? '', ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
          // Clean-up, not an assertion: a binary that unexpectedly keeps running is stopped, never left behind.
          timeout: 15_000,
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => void (stdout += c.toString()));
        child.stderr.on('data', (c: Buffer) => void (stderr += c.toString()));
        child.on('error', reject);
        child.on('close', (code) => {
          if (!opts.cwd) rmSync(cwd, { recursive: true, force: true });
          resolve({ code, stdout, stderr });
        });
      });
    },
    remove: () => rmSync(out, { recursive: true, force: true }),
  };
}

/** Lines of a Node.js stack trace ("    at fn (file:line:col)"). */
export function stackLines(text: string): string[] {
  return text.split('\n').filter((l) => /^\s+at\s/.test(l));
}
