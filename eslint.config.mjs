// @ts-check
/**
 * Lint for bwprep (issue 11 §6): the rules that catch what reviews found, nothing cosmetic.
 * - Floating and misused promises (typescript-eslint, type-aware: it needs the types to know what is a promise).
 * - Swallowed errors: a `.catch(() => undefined)`-style handler, or an empty `catch {}`, must carry a comment
 *   saying why ignoring is right (or log instead). `no-empty` already accepts a commented block; the local
 *   rule `bwprep/no-silent-catch` does the same for promise rejection handlers.
 * - Unused variables and imports. Unused exports, files and dependencies are knip's job (knip.json).
 * Formatting is Prettier's (.prettierrc.json, `npm run format:check` in `npm test`); this config has no
 * stylistic rules, so the two never disagree.
 */
import tseslint from 'typescript-eslint';

/**
 * True when `node` drops the error it is given: a function that never reads its first parameter (none,
 * `_err`, or one it does not use: `() => undefined`, `() => false`, `() => { return; }`), or a function
 * passed by a name that says it does nothing (`noop`, `ignore`).
 */
function isSilentHandler(node, source) {
  if (!node) return false;
  if (node.type === 'Identifier') return /^(noop|ignore|ignored|nothing|swallow)$/i.test(node.name);
  if (node.type !== 'ArrowFunctionExpression' && node.type !== 'FunctionExpression') return false;
  const param = node.params[0];
  if (!param) return true;
  if (param.type !== 'Identifier') return false; // destructured: it reads the error
  const variable = source.getDeclaredVariables(node).find((v) => v.name === param.name);
  return !variable || variable.references.length === 0;
}

/** @type {import('eslint').Rule.RuleModule} */
const noSilentCatch = {
  meta: {
    type: 'problem',
    docs: { description: 'A rejection handler that does not read the error must say why (a comment) or log the error.' },
    messages: {
      silent: 'This handler swallows the error. Log it (with what failed), or add a comment saying why ignoring it is right.',
    },
    schema: [],
  },
  create(context) {
    const source = context.sourceCode;
    /** A comment inside the handler, trailing on its line, or right above the statement that holds it. */
    function hasReason(handler, call) {
      if (source.getCommentsInside(handler).length > 0) return true;
      const endLine = call.loc.end.line;
      if (source.getAllComments().some((c) => c.loc.start.line === endLine && c.range[0] >= call.range[1])) return true;
      let stmt = call;
      while (stmt.parent && !/Statement|Declaration$/.test(stmt.type)) stmt = stmt.parent;
      return source.getCommentsBefore(stmt).some((c) => c.loc.end.line >= stmt.loc.start.line - 1);
    }
    return {
      CallExpression(node) {
        const callee = node.callee;
        if (callee.type !== 'MemberExpression' || callee.property.type !== 'Identifier') return;
        const handler = callee.property.name === 'catch' ? node.arguments[0] : callee.property.name === 'then' ? node.arguments[1] : undefined;
        if (handler && isSilentHandler(handler, source) && !hasReason(handler, node)) {
          context.report({ node: handler, messageId: 'silent' });
        }
      },
    };
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'dist-bench/**', 'reports/**', '.stryker-tmp/**', 'coverage/**', 'node_modules/**', 'data/**', 'test/lint/fixtures/**'] },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { '@typescript-eslint': tseslint.plugin, bwprep: { rules: { 'no-silent-catch': noSilentCatch } } },
    rules: {
      // `void promise` is no way out: a promise is awaited, or its rejection handled (.catch / .then(_, onRejected)).
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: false }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      'bwprep/no-silent-catch': 'error',
      'no-empty': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
    },
  },
);
