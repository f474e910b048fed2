import { z } from 'zod';

const localized = z.object({ en: z.string().min(1), nl: z.string().min(1) }).strict();

export const templateStepSchema = z
  .object({
    id: z.string().regex(/^[0-9]+[a-z]?$/, 'a step id is a number with an optional letter, like 2a or 6'),
    phase: z.number().int().positive(),
    /** null = not estimated (shown as such, never as 0). */
    hours: z.number().nonnegative().nullable(),
    appliesTo: z.enum(['all', 'self-hosted', 'cloud']),
    /** How far the Bitwarden Public API can verify it. */
    check: z.enum(['api', 'partial', 'manual']),
    helpUrl: z.string().url(),
    title: localized,
    description: localized,
  })
  .strict();

export const templateSchema = z
  .object({
    id: z.string().min(1),
    version: z.number().int().positive(),
    name: localized,
    source: z.string().url().optional(),
    phases: z.array(z.object({ id: z.number().int().positive(), title: localized }).strict()).min(1),
    steps: z.array(templateStepSchema).min(1),
  })
  .strict()
  .superRefine((t, ctx) => {
    for (const p of crossStepProblems(t)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message, params: { ...p.params } });
  });

/**
 * Checks across steps (duplicate ids, phases not listed). Works on unvalidated data too: zod runs
 * refinements only once the shape is valid, and an author should see every problem in one go.
 */
function crossStepProblems(data: unknown): { path: (string | number)[]; message: string; params: TemplateIssue }[] {
  const d = data as { phases?: unknown; steps?: unknown } | null;
  if (!Array.isArray(d?.steps)) return [];
  const out: { path: (string | number)[]; message: string; params: TemplateIssue }[] = [];
  const seen = new Set<string>();
  const phases = Array.isArray(d.phases) ? new Set(d.phases.map((p) => (p as { id?: unknown } | null)?.id)) : undefined;
  d.steps.forEach((raw, i) => {
    const s = raw as { id?: unknown; phase?: unknown } | null;
    if (typeof s?.id === 'string') {
      if (seen.has(s.id)) out.push({ path: ['steps', i, 'id'], message: `step id "${s.id}" is used twice`, params: { code: 'duplicate_id', id: s.id } });
      seen.add(s.id);
    }
    if (phases && typeof s?.phase === 'number' && !phases.has(s.phase))
      out.push({ path: ['steps', i, 'phase'], message: `phase ${s.phase} is not listed under "phases"`, params: { code: 'phase_not_listed', phase: s.phase } });
  });
  return out;
}

export type Template = z.infer<typeof templateSchema>;
export type TemplateStep = z.infer<typeof templateStepSchema>;

/**
 * What is wrong, as data, so a surface can say it in the reader's language (src/templates.ts). `code`:
 * `required` (the field is missing), zod's issue codes (`invalid_type` with `expected`, `too_small` /
 * `too_big` with `origin`, `minimum`/`maximum`, `inclusive`; `invalid_format` with `format`;
 * `invalid_value` with `values`; `unrecognized_keys` with `keys`), or the cross-step checks
 * `duplicate_id` (`id`) and `phase_not_listed` (`phase`).
 */
export interface TemplateIssue {
  code: string;
  expected?: string;
  origin?: string;
  minimum?: number;
  maximum?: number;
  inclusive?: boolean;
  format?: string;
  values?: string[];
  keys?: string[];
  id?: string;
  phase?: number;
}

export interface TemplateProblem {
  path: string;
  /** zod's English wording; `issue` holds the same as data. */
  message: string;
  issue: TemplateIssue;
}

/** True when the value at `path` in `data` is absent (so "expected number, received undefined" or "expected one of …" means "is required"). */
function isMissing(data: unknown, path: readonly PropertyKey[]): boolean {
  let cur: unknown = data;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object' || !(key in (cur as object))) return true;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur === undefined;
}

function issueOf(data: unknown, i: { path: PropertyKey[]; code?: string } & Record<string, unknown>): TemplateIssue {
  if (i.params) return i.params as TemplateIssue;
  // A missing field is "required" whatever zod calls it: invalid_type for most, invalid_value for an enum.
  if (isMissing(data, i.path)) return { code: 'required' };
  // Stryker disable next-line StringLiteral: equivalent — every zod issue has a code (cross-step ones return above); the fallback is for the type
  const out: TemplateIssue = { code: String(i.code ?? 'custom') };
  for (const k of ['expected', 'origin', 'format', 'inclusive', 'values', 'keys'] as const)
    if (i[k] !== undefined) (out as unknown as Record<string, unknown>)[k] = i[k];
  for (const k of ['minimum', 'maximum'] as const) if (i[k] !== undefined) out[k] = Number(i[k]);
  return out;
}

/** Validates parsed JSON as a template; returns every problem with a readable path. */
export function validateTemplate(data: unknown): { ok: true; template: Template } | { ok: false; problems: TemplateProblem[] } {
  const r = templateSchema.safeParse(data);
  if (r.success) return { ok: true, template: r.data };
  const issues: ({ path: PropertyKey[]; message: string } & Record<string, unknown>)[] = r.error.issues.map(
    (i) => ({ ...i }) as { path: PropertyKey[]; message: string } & Record<string, unknown>,
  );
  // The cross-step checks did not run on invalid data; add what they find (once).
  for (const p of crossStepProblems(data)) {
    if (!issues.some((i) => i.message === p.message && i.path.join('.') === p.path.join('.'))) issues.push(p);
  }
  return {
    ok: false,
    problems: issues.map((i) => ({
      path: i.path.length
        ? i.path
            .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
            .join('')
            .replace(/^\./, '')
        : '(root)',
      message: i.message,
      issue: issueOf(data, i),
    })),
  };
}

export function findStep(t: Template, id: string): TemplateStep | undefined {
  const needle = id.trim().toLowerCase();
  return t.steps.find((s) => s.id.toLowerCase() === needle);
}
