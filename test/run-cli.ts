import { spawn } from "node:child_process";
import { afterAll, beforeAll } from "vitest";
import type { Db } from "../server/db/client";
import { createTestDatabase } from "./db";
import { makeWorld } from "./fixtures";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `npm run vmatrix -- ARGS` as an operator's terminal runs it, for the CLI's integration
 * tests: a child process (no shell) with the test's environment on top of this one's
 * (DATABASE_URL, EDGE_MANIFEST, …); resolves with its exit code and output.
 */
export function runCli(env: Record<string, string>, args: readonly string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["node_modules/tsx/dist/cli.mjs", "scripts/vmatrix.ts", ...args], {
      env: { ...process.env, ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * For a CLI test file: a fresh database with the test world (hooks registered here), and
 * `cli(...)` running the CLI on it. The fields are set once the file's tests run.
 */
export function withCliWorld() {
  const t = {} as { db: Db; url: string; w: World; cli: (...args: string[]) => Promise<CliRun> };
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const created = await createTestDatabase();
    drop = created.drop;
    Object.assign(t, { db: created.db, url: created.url, w: await makeWorld(created.db) });
  });
  afterAll(() => drop?.());
  t.cli = (...args: string[]) => runCli({ DATABASE_URL: t.url }, args);
  return t;
}
type World = Awaited<ReturnType<typeof makeWorld>>;
