/**
 * `npm test`: every check, in order of speed — type check, lint, unit tests, integration
 * tests (real PostgreSQL, real SSH labs), browser tests (production build, real Chromium),
 * the chaos soak. Steps that do not compete for the same cores run side by side. All steps
 * run; the summary says which failed.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createInterface } from "node:readline";
import path from "node:path";
import { findChromium } from "../e2e/browser";

/**
 * Each step also writes a JSON report here, so the summary at the very end can name the
 * tests that failed (CI keeps only the tail of the log).
 */
const reportDir = path.resolve(".data/test-reports");
const vitestJson = (name: string) => [
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${reportDir}/${name}.json`,
];

const only = process.argv.slice(2);
/** What `before` returns for a step that cannot run here and is not required to (it says why). */
const SKIPPED = "skipped";
/** A step runs one command, or several side by side (`also`: each with its own report and environment). */
interface Step {
  name: string;
  /** Consecutive steps of one group run side by side (each still its own line in the summary). */
  group?: string;
  cmd: string[];
  also?: { name: string; cmd: string[]; env: Record<string, string> }[];
  before?: () => string | null | typeof SKIPPED;
}
const steps: Step[] = [
  // The static checks are single-threaded: side by side on the machine's cores.
  { name: "typecheck", group: "static", cmd: ["npx", "tsc", "--noEmit", "-p", "."] },
  { name: "lint", group: "static", cmd: ["npx", "eslint", "--max-warnings", "0", "."] },
  // The floor plan's door rules and no folder cycles under server/ (docs/architecture.md).
  { name: "layers", group: "static", cmd: ["npx", "tsx", "scripts/check-layers.ts"] },
  { name: "format", group: "static", cmd: ["npx", "prettier", "--check", "."] },
  { name: "unit", cmd: ["npx", "vitest", "run", "--project", "unit", ...vitestJson("unit")] },
  {
    // The libvirt suites run one at a time beside the rest, on a PostgreSQL of their own.
    name: "integration",
    cmd: ["npx", "vitest", "run", "--project", "integration", ...vitestJson("integration")],
    also: [
      {
        name: "integration-libvirt",
        cmd: ["npx", "vitest", "run", "--project", "integration-libvirt", ...vitestJson("integration-libvirt")],
        env: { EMBEDDED_PG_TEST_PORT: process.env.EMBEDDED_PG_TEST_LIBVIRT_PORT ?? "54329" },
      },
    ],
  },
  {
    name: "e2e",
    cmd: ["npx", "playwright", "test", "--reporter=list,json"],
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
    // Production mode (docs/security.md, "Modes"): no demo accounts, the first administrator.
    name: "e2e-production",
    group: "last",
    cmd: ["npx", "playwright", "test", "-c", "playwright.production.config.ts", "--reporter=list,json"],
    before: () => {
      try {
        findChromium();
        return null;
      } catch (e) {
        return (e as Error).message;
      }
    },
  },
  // A short chaos soak, fixed seed: every invariant must hold (docs/faults.md). Beside the
  // browser tests of production mode and of the libvirt lab, which mostly wait (beside the
  // integration tests, which use about 1.4 of 2 cores, its recoveries took up to 8× longer).
  {
    name: "chaos",
    group: "last",
    cmd: ["npx", "tsx", "scripts/chaos.ts", "--minutes", "2", "--seed", "14", "--report", `${reportDir}/chaos.json`],
  },
  {
    // The same product on the libvirt lab's real hosts (root on Linux; CI requires it).
    name: "e2e-libvirt",
    group: "last",
    cmd: ["npx", "playwright", "test", "-c", "playwright.libvirt.config.ts", "--reporter=list,json"],
    before: () => {
      if (process.platform === "linux" && process.getuid?.() === 0) return null;
      const why = "skipped: the libvirt lab needs root on Linux";
      if (process.env.VMATRIX_REQUIRE_LIBVIRT === "1") return `${why}, and VMATRIX_REQUIRE_LIBVIRT=1 requires it`;
      console.log(`[e2e-libvirt] ${why}`);
      return SKIPPED;
    },
  },
];

/** Failed tests in a step's vitest or Playwright JSON report: "file › test: first line of the error". */
function failuresIn(step: string): string[] {
  return readdirSync(reportDir)
    .filter((f) => f === `${step}.json` || (f.startsWith(`${step}-`) && f.endsWith(".json")))
    .flatMap((f) => failuresInReport(`${reportDir}/${f}`));
}

function failuresInReport(file: string): string[] {
  let report: unknown;
  try {
    report = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return [];
  }
  const firstLine = (s: unknown) =>
    String(s ?? "")
      .replace(/\u001b\[[0-9;]*m/g, "")
      .trim()
      .split("\n")[0]!
      .slice(0, 200);
  const out: string[] = [];
  const r = report as {
    testResults?: {
      name: string;
      status: string;
      message?: string;
      assertionResults: { status: string; fullName: string; failureMessages: string[] }[];
    }[];
    suites?: PwSuite[];
    errors?: { message?: string }[];
  };
  for (const file of r.testResults ?? []) {
    const rel = path.relative(process.cwd(), file.name);
    const failed = file.assertionResults.filter((a) => a.status === "failed");
    for (const a of failed) out.push(`${rel} › ${a.fullName}: ${firstLine(a.failureMessages[0])}`);
    if (failed.length === 0 && file.status === "failed") out.push(`${rel}: ${firstLine(file.message)}`);
  }
  const walk = (s: PwSuite) => {
    for (const spec of s.specs ?? [])
      for (const t of spec.tests ?? [])
        if (t.status === "unexpected")
          out.push(`${spec.file} › ${spec.title}: ${firstLine(t.results?.at(-1)?.error?.message)}`);
    for (const child of s.suites ?? []) walk(child);
  };
  for (const s of r.suites ?? []) walk(s);
  for (const e of r.errors ?? []) out.push(firstLine(e.message));
  return out;
}
type PwSuite = {
  specs?: { file: string; title: string; tests?: { status: string; results?: { error?: { message?: string } }[] }[] }[];
  suites?: PwSuite[];
};

rmSync(reportDir, { recursive: true, force: true });
mkdirSync(reportDir, { recursive: true });

const results: { name: string; ok: boolean; skipped?: boolean; seconds: number; note?: string }[] = [];

/** Runs a command; with a prefix, its lines are prefixed (steps side by side would interleave). */
function run(cmd: string[], env: NodeJS.ProcessEnv, prefix: string | null): Promise<number | null> {
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: prefix ? ["ignore", "pipe", "pipe"] : "inherit", env });
  if (prefix)
    for (const [from, to] of [
      [child.stdout!, process.stdout],
      [child.stderr!, process.stderr],
    ] as const)
      createInterface({ input: from }).on("line", (line) => to.write(`[${prefix}] ${line}\n`));
  return new Promise((resolve) => {
    child.on("close", (code) => resolve(code));
    child.on("error", () => resolve(null));
  });
}

async function runStep(step: Step, prefixed: boolean): Promise<void> {
  const problem = step.before?.();
  if (problem === SKIPPED) {
    results.push({ name: step.name, ok: true, skipped: true, seconds: 0, note: "cannot run here (see above)" });
    return;
  }
  if (problem) {
    console.error(problem);
    results.push({ name: step.name, ok: false, seconds: 0, note: problem });
    return;
  }
  const t = Date.now();
  const parts = [{ name: step.name, cmd: step.cmd, env: {} }, ...(step.also ?? [])];
  const codes = await Promise.all(
    parts.map((part) =>
      run(
        part.cmd,
        {
          ...process.env,
          ...part.env,
          NEXT_TELEMETRY_DISABLED: "1",
          PLAYWRIGHT_JSON_OUTPUT_NAME: `${reportDir}/${part.name}.json`,
        },
        prefixed || parts.length > 1 ? part.name : null,
      ),
    ),
  );
  results.push({ name: step.name, ok: codes.every((c) => c === 0), seconds: (Date.now() - t) / 1000 });
}

// Consecutive steps of one group run side by side.
const selected = steps.filter((step) => only.length === 0 || only.includes(step.name));
for (let i = 0; i < selected.length;) {
  const group = selected[i]!.group;
  let j = i + 1;
  while (group && j < selected.length && selected[j]!.group === group) j++;
  const batch = selected.slice(i, j);
  console.log(`\n━━━ ${batch.map((b) => b.name).join(" + ")} ━━━`);
  await Promise.all(batch.map((step) => runStep(step, batch.length > 1)));
  i = j;
}

console.log("\n━━━ summary ━━━");
// In the order of the steps, whichever finished first.
results.sort((a, b) => steps.findIndex((s) => s.name === a.name) - steps.findIndex((s) => s.name === b.name));
for (const r of results) {
  console.log(
    `${r.skipped ? "SKIP" : r.ok ? "PASS" : "FAIL"}  ${r.name.padEnd(12)} ${r.seconds.toFixed(0).padStart(4)} s${r.note ? `  (${r.note})` : ""}`,
  );
  if (!r.ok) for (const f of failuresIn(r.name)) console.log(`      ✗ ${f}`);
}
process.exit(results.every((r) => r.ok) ? 0 : 1);
