import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

const ROOT = join(__dirname, '..', '..');
/** What src/store needs at run time: itself and the core modules it imports (type-only imports are erased). */
const SOURCES = [
  'src/store',
  'src/core/errors.ts',
  'src/core/checklist/model.ts',
  'src/core/ports.ts',
  'src/config/errors.ts',
  'src/i18n/index.ts',
  'src/views/rich.ts',
];

function files(p: string): string[] {
  const abs = join(ROOT, p);
  if (abs.endsWith('.ts')) return [abs];
  return readdirSync(abs, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? files(relative(ROOT, join(abs, d.name))) : d.name.endsWith('.ts') ? [join(abs, d.name)] : [],
  );
}

/**
 * Transpiles the store's own TypeScript to CommonJS under `outDir`, so a child `node` process can run
 * the real store code (no tsx here). Returns the path of the compiled `src/store/index.js`.
 */
export function buildStore(outDir: string): string {
  for (const file of SOURCES.flatMap(files)) {
    const out = join(outDir, relative(ROOT, file)).replace(/\.ts$/, '.js');
    const js = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: file,
    }).outputText;
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, js);
  }
  return join(outDir, 'src', 'store', 'index.js');
}

export const NODE_MODULES = join(ROOT, 'node_modules');
