/**
 * `npm run lint:layers` (a step of `npm test`): the floor plan's door rules. Runs
 * dependency-cruiser with .dependency-cruiser.cjs (which folder may import which, no file
 * cycles) and then refuses any cycle between the folders of server/ (server/edge → server/jobs
 * → server/edge, say), which file rules alone do not see. docs/architecture.md explains
 * the rules; a failure names the import to move.
 */
import { createRequire } from "node:module";
import { cruise, type ICruiseResult, type IModule } from "dependency-cruiser";
import extractTsConfig from "dependency-cruiser/config-utl/extract-ts-config";

const require = createRequire(import.meta.url);
const ruleSet = require("../.dependency-cruiser.cjs") as { forbidden: unknown[]; options: Record<string, unknown> };

const result = await cruise(
  ["server"],
  { ...ruleSet.options, ruleSet: { forbidden: ruleSet.forbidden }, validate: true } as never,
  undefined,
  { tsConfig: extractTsConfig("tsconfig.json") },
);
const output = result.output as ICruiseResult;

let failed = false;
for (const v of output.summary.violations) {
  failed = true;
  const via = v.cycle ? ` (cycle: ${v.cycle.map((c) => c.name).join(" → ")})` : "";
  console.error(`layers: ${v.rule.name}: ${v.from} → ${v.to}${via}`);
}

/** The room of a file: its top folder under server/ (server/edge/driver is part of server/edge), or the file itself. */
export function room(file: string): string | null {
  const m = /^server\/([^/]+)(\/)?/.exec(file);
  if (!m) return null;
  return m[2] ? `server/${m[1]}/` : file;
}

/** Strongly connected components of more than one room (Tarjan). */
export function folderCycles(edges: Map<string, Set<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return out;
}

const isTest = (f: string) => /\.test\.tsx?$/.test(f);
const edges = new Map<string, Set<string>>();
const why = new Map<string, string>();
for (const m of output.modules as IModule[]) {
  const from = room(m.source);
  if (!from || isTest(m.source)) continue;
  edges.set(from, edges.get(from) ?? new Set());
  for (const d of m.dependencies) {
    const to = room(d.resolved);
    if (!to || to === from) continue;
    edges.get(from)!.add(to);
    if (!why.has(`${from}|${to}`)) why.set(`${from}|${to}`, `${m.source} → ${d.resolved}`);
  }
}
for (const scc of folderCycles(edges)) {
  failed = true;
  const inside = new Set(scc);
  const ties = scc.flatMap((a) => [...(edges.get(a) ?? [])].filter((b) => inside.has(b)).map((b) => `    ${why.get(`${a}|${b}`)}`));
  console.error(`layers: folder cycle under server/: ${scc.join(", ")}; the imports that tie it:\n${ties.join("\n")}`);
}

if (failed) process.exit(1);
console.log(`layers: ${output.summary.totalCruised} modules, ${output.summary.totalDependenciesCruised} imports: the door rules hold and server/ has no folder cycle.`);
