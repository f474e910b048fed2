/**
 * Summarizes V8 .cpuprofile files (from BENCH_PROFILE=<dir>): self time by function and by package/file.
 *   node dist-bench/bench/profile-summary.js <file.cpuprofile> [top]
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

function main() {
  const [file, topArg] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-summary <file.cpuprofile> [top]');
  const top = Number(topArg ?? 25);
  const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fn = new Map<string, number>();
  const pkg = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const url = n.callFrame.url.replace(/^file:\/\//, '');
    const short = url.replace(/.*node_modules\//, 'nm:').replace(/.*\/dist-bench\//, '');
    fn.set(
      `${n.callFrame.functionName || '(anon)'} ${short}:${n.callFrame.lineNumber + 1}`,
      (fn.get(`${n.callFrame.functionName || '(anon)'} ${short}:${n.callFrame.lineNumber + 1}`) ?? 0) + us,
    );
    const m = /nm:((?:@[^/]+\/)?[^/]+)/.exec(short);
    const group = m
      ? m[1]
      : short.startsWith('src/') || short.startsWith('test/')
        ? short.split('/').slice(0, 2).join('/')
        : url
          ? url.startsWith('node:')
            ? 'node:internal'
            : short
          : n.callFrame.functionName;
    pkg.set(group as string, (pkg.get(group as string) ?? 0) + us);
  }
  const show = (title: string, m: Map<string, number>) => {
    process.stdout.write(`\n${title} (total ${(total / 1000).toFixed(0)} ms)\n`);
    for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
      process.stdout.write(`${((v / total) * 100).toFixed(1).padStart(5)}%  ${(v / 1000).toFixed(0).padStart(6)} ms  ${k}\n`);
  };
  show('self time by package/file', pkg);
  show('self time by function', fn);
}

main();
