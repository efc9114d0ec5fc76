/**
 * `npm test`: every check, in order of speed — type check, lint, unit tests, integration
 * tests (real PostgreSQL, real SSH labs), browser tests (production build, real Chromium).
 * All steps run; the summary says which failed.
 */
import { spawnSync } from "node:child_process";
import { findChromium } from "../e2e/browser";

const only = process.argv.slice(2);
const steps: { name: string; cmd: string[]; before?: () => string | null }[] = [
  { name: "typecheck", cmd: ["npx", "tsc", "--noEmit", "-p", "."] },
  { name: "lint", cmd: ["npx", "eslint", "--max-warnings", "0", "."] },
  { name: "unit", cmd: ["npx", "vitest", "run", "--project", "unit"] },
  { name: "integration", cmd: ["npx", "vitest", "run", "--project", "integration"] },
  {
    name: "e2e",
    cmd: ["npx", "playwright", "test"],
    before: () => {
      try {
        findChromium();
        return null;
      } catch (e) {
        return (e as Error).message;
      }
    },
  },
];

const results: { name: string; ok: boolean; seconds: number; note?: string }[] = [];
for (const step of steps) {
  if (only.length > 0 && !only.includes(step.name)) continue;
  console.log(`\n━━━ ${step.name} ━━━`);
  const problem = step.before?.();
  if (problem) {
    console.error(problem);
    results.push({ name: step.name, ok: false, seconds: 0, note: problem });
    continue;
  }
  const t = Date.now();
  const r = spawnSync(step.cmd[0]!, step.cmd.slice(1), { stdio: "inherit", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
  results.push({ name: step.name, ok: r.status === 0, seconds: (Date.now() - t) / 1000 });
}

console.log("\n━━━ summary ━━━");
for (const r of results) console.log(`${r.ok ? "PASS" : "FAIL"}  ${r.name.padEnd(12)} ${r.seconds.toFixed(0).padStart(4)} s${r.note ? `  (${r.note})` : ""}`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
