/** Percentiles, rounding and the summary table shared by the benchmarks. */

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export const round = (x: number, digits = 2): number => {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

export function summarize(values: number[]): LatencySummary {
  const s = [...values].sort((a, b) => a - b);
  const sum = s.reduce((a, b) => a + b, 0);
  return {
    count: s.length,
    p50: round(percentile(s, 50)),
    p95: round(percentile(s, 95)),
    p99: round(percentile(s, 99)),
    max: round(s[s.length - 1] ?? NaN),
    mean: round(s.length ? sum / s.length : NaN),
  };
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

/** One line of the summary: a figure, its value, its baseline, the ratio, the target and whether it is met. */
export interface Row {
  bench: string;
  metric: string;
  value: number | string | undefined;
  unit?: string;
  baseline?: number | string | undefined;
  ratio?: number | undefined;
  target?: string;
  met?: boolean | undefined;
}

const cell = (v: unknown): string => {
  if (v === undefined || v === null) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(round(v, 2)) : String(v);
  if (typeof v === 'boolean') return v ? 'MET' : 'MISSED';
  return String(v);
};

export function formatTable(rows: Row[]): string {
  const head = ['bench', 'metric', 'value', 'baseline', 'ratio', 'target', 'status'];
  const body = rows.map((r) => [
    r.bench,
    r.metric,
    `${cell(r.value)}${r.unit && r.value !== undefined ? ` ${r.unit}` : ''}`,
    `${cell(r.baseline)}${r.unit && r.baseline !== undefined ? ` ${r.unit}` : ''}`,
    r.ratio !== undefined ? `${cell(r.ratio)}×` : '',
    r.target ?? '',
    r.met === undefined ? (r.target ? 'n/a' : '') : cell(r.met),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i] as number)).join(' | ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)].join('\n');
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A small seeded PRNG (mulberry32): the same seed gives the same request mix and fixtures in every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
