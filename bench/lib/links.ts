/**
 * Side-effect module, imported FIRST by every compiled benchmark entry point.
 *
 * src/i18n and src/templates find `locales/` and `templates/` relative to their own compiled file
 * (`dist/i18n/index.js` → `../../locales`). Compiled into `dist-bench/src/…` they look in
 * `dist-bench/locales` and `dist-bench/templates`, so we link those to the real folders.
 */
import { existsSync, lstatSync, symlinkSync } from 'node:fs';
import path from 'node:path';

/** The repository root (holds package.json), from dist-bench/bench/lib or bench/lib. */
export const REPO_ROOT = (() => {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'src'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error(`bench: cannot find the repository root above ${__dirname}`);
})();

/** dist-bench/ when running compiled output, else undefined. */
const OUT_DIR = (() => {
  const rel = path.relative(REPO_ROOT, __dirname).split(path.sep);
  return rel[0] && rel[0] !== 'bench' ? path.join(REPO_ROOT, rel[0]) : undefined;
})();

if (OUT_DIR) {
  for (const name of ['locales', 'templates']) {
    const link = path.join(OUT_DIR, name);
    let present = false;
    try {
      lstatSync(link);
      present = true;
    } catch {
      present = false;
    }
    if (!present) {
      try {
        symlinkSync(path.join(REPO_ROOT, name), link, 'dir');
      } catch (e) {
        // Two benchmark processes may race to create it; fine if it exists now.
        if (!existsSync(link)) throw e;
      }
    }
  }
}
