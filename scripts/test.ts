/**
 * `npm test`: every check, in order of speed — type check, lint, unit tests, integration
 * tests (real PostgreSQL, real SSH labs), browser tests (production build, real Chromium).
 * All steps run; the summary says which failed.
 */
import { spawnSync } from "node:child_process";
import { findChromium } from "../e2e/browser";

const only = process.argv.slice(2);
/** What `before` returns for a step that cannot run here and is not required to (it says why). */
const SKIPPED = "skipped";
const steps: { name: string; cmd: string[]; before?: () => string | null | typeof SKIPPED }[] = [
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
  {
    // The same product on the libvirt lab's real hosts (root on Linux; CI requires it).
    name: "e2e-libvirt",
    cmd: ["npx", "playwright", "test", "-c", "playwright.libvirt.config.ts"],
    before: () => {
      if (process.platform === "linux" && process.getuid?.() === 0) return null;
      const why = "skipped: the libvirt lab needs root on Linux";
      if (process.env.VMATRIX_REQUIRE_LIBVIRT === "1") return `${why}, and VMATRIX_REQUIRE_LIBVIRT=1 requires it`;
      console.log(`[e2e-libvirt] ${why}`);
      return SKIPPED;
    },
  },
];

const results: { name: string; ok: boolean; skipped?: boolean; seconds: number; note?: string }[] = [];
for (const step of steps) {
  if (only.length > 0 && !only.includes(step.name)) continue;
  console.log(`\n━━━ ${step.name} ━━━`);
  const problem = step.before?.();
  if (problem === SKIPPED) {
    results.push({ name: step.name, ok: true, skipped: true, seconds: 0, note: "cannot run here (see above)" });
    continue;
  }
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
for (const r of results) console.log(`${r.skipped ? "SKIP" : r.ok ? "PASS" : "FAIL"}  ${r.name.padEnd(12)} ${r.seconds.toFixed(0).padStart(4)} s${r.note ? `  (${r.note})` : ""}`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
