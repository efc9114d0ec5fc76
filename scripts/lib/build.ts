import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

const INPUTS = [
  "app",
  "components",
  "server",
  "prisma",
  "public",
  "lab/manifest.ts",
  "next.config.ts",
  "tsconfig.json",
  "package-lock.json",
];
const SKIP = new Set(["node_modules", "generated", "migrations", ".next"]);
const STAMP = path.join(".next", "vmatrix-build-sha256");

async function hashInputs(): Promise<string> {
  const hash = createHash("sha256");
  async function walk(p: string): Promise<void> {
    if (!existsSync(p)) return;
    const entries = await readdir(p, { withFileTypes: true }).catch(() => null);
    if (!entries) {
      hash.update(p).update(await readFile(p));
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (SKIP.has(e.name) || e.name.endsWith(".test.ts")) continue;
      await walk(path.join(p, e.name));
    }
  }
  for (const input of INPUTS) await walk(input);
  return hash.digest("hex");
}

/** Builds the Next.js app for production unless the last build used the same sources. */
export async function buildIfNeeded(log: (line: string) => void): Promise<void> {
  const want = await hashInputs();
  const have = existsSync(STAMP) ? (await readFile(STAMP, "utf8")).trim() : null;
  if (have === want && existsSync(path.join(".next", "BUILD_ID"))) {
    log("App build is up to date.");
    return;
  }
  log("Building the app (next build, about 1–2 minutes the first time)…");
  const child = spawn(process.execPath, [path.resolve("node_modules/next/dist/bin/next"), "build"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" },
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const code: number = await new Promise((resolve) => child.on("exit", (c) => resolve(c ?? 1)));
  if (code !== 0) throw new Error(`next build failed:\n${output.trim().split("\n").slice(-40).join("\n")}`);
  await writeFile(STAMP, want);
  log("App built.");
}
