import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Template, validateTemplate } from './core/checklist/template';

/** templates/ sits one level above both src/ and dist/. */
export const TEMPLATES_DIR = path.resolve(__dirname, '..', 'templates');
export const BUILT_IN_TEMPLATE = path.join(TEMPLATES_DIR, 'prepare-for-production.json');

export function loadTemplate(file: string = BUILT_IN_TEMPLATE): Template {
  const result = validateTemplate(JSON.parse(readFileSync(file, 'utf8')));
  if (!result.ok) {
    throw new Error(`template ${file} is invalid:\n${result.problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
  }
  return result.template;
}
