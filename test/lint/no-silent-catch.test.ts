import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The project's own lint rule against swallowed errors (eslint.config.mjs, bwprep/no-silent-catch), run by
 * ESLint with the project's configuration on a fixture: which rejection handlers it reports.
 */
describe('bwprep/no-silent-catch', () => {
  it('reports handlers that never read the error, unless a comment gives the reason', async () => {
    const file = path.join(__dirname, 'fixtures', 'handlers.ts');
    const eslint = new ESLint({ cwd: path.join(__dirname, '..', '..'), ignore: false });
    const [result] = await eslint.lintFiles([file]);
    const lines = readFileSync(file, 'utf8').split('\n');
    const reported = result!.messages.filter((m) => m.ruleId === 'bwprep/no-silent-catch').map((m) => lines[m.line - 1]!.trim());
    expect(reported).toEqual([
      'await p.catch(() => undefined);',
      'await p.catch(() => false);',
      'await p.catch((_err) => null);',
      'await p.catch(noop);',
      '() => 0,',
      'await p.catch(function () {',
    ]);
    expect(result!.messages.filter((m) => m.ruleId !== 'bwprep/no-silent-catch')).toEqual([]);
  }, 60_000);
});
