import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * `void promise` is no way out (eslint.config.mjs: no-floating-promises with ignoreVoid off, a review
 * finding): a promise is awaited or its rejection handled. Run by ESLint with the project's configuration.
 */
describe('@typescript-eslint/no-floating-promises', () => {
  it('reports a voided, a bare and a finally-only promise; a handled rejection passes', async () => {
    const file = path.join(__dirname, 'fixtures', 'floating.ts');
    const eslint = new ESLint({ cwd: path.join(__dirname, '..', '..'), ignore: false });
    const [result] = await eslint.lintFiles([file]);
    const lines = readFileSync(file, 'utf8').split('\n');
    const reported = result!.messages.filter((m) => m.ruleId === '@typescript-eslint/no-floating-promises').map((m) => lines[m.line - 1]!.trim());
    expect(reported).toEqual(['void work();', 'work();', "work().finally(() => log('done'));"]);
  }, 60_000);
});
