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
import { folderCycles, room } from "./lib/folder-cycles";

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
  const ties = scc.flatMap((a) =>
    [...(edges.get(a) ?? [])].filter((b) => inside.has(b)).map((b) => `    ${why.get(`${a}|${b}`)}`),
  );
  console.error(`layers: folder cycle under server/: ${scc.join(", ")}; the imports that tie it:\n${ties.join("\n")}`);
}

if (failed) process.exit(1);
console.log(
  `layers: ${output.summary.totalCruised} modules, ${output.summary.totalDependenciesCruised} imports: the door rules hold and server/ has no folder cycle.`,
);
