import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import { issueToken } from "../server/auth/tokens";
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
 * (VMATRIX_URL, VMATRIX_TOKEN, …); resolves with its exit code and output.
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

export interface TestApi {
  /** The product's address, as VMATRIX_URL takes it. */
  url: string;
  stop(): Promise<void>;
}

/**
 * The product's API over HTTP for the CLI to talk to (test/api-server.ts: the real tRPC
 * route without Next), in a process of its own with `env` (DATABASE_URL, DNS_ZONE,
 * EDGE_MANIFEST, …) on top of this one's.
 */
export function startTestApi(env: Record<string, string>): Promise<TestApi> {
  const child: ChildProcess = spawn(process.execPath, ["node_modules/tsx/dist/cli.mjs", "test/api-server.ts"], {
    env: { ...process.env, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /listening (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (!m) return;
      child.stdout!.off("data", onData);
      resolve({
        url: m[1]!,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once("exit", () => done());
            child.kill("SIGTERM");
            setTimeout(() => child.kill("SIGKILL"), 5000).unref();
          }),
      });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    child.once("exit", (code) =>
      reject(new Error(`the test API server exited (${code}) before listening:\n${output}`)),
    );
  });
}

export interface CliApi {
  /** The API server's address. */
  url: string;
  /** The user the CLI acts as by default: an operator of the test's database. */
  operator: { id: string; email: string };
  /** The operator's token. */
  token: string;
  /** The CLI against the API server with the operator's token. */
  cli(...args: string[]): Promise<CliRun>;
  /** The CLI against the API server with another token (or none: `{}`) or more environment. */
  cliWith(env: Record<string, string>, ...args: string[]): Promise<CliRun>;
  /** A fresh token for a user of the test's database. */
  tokenFor(userId: string, days?: number): Promise<string>;
}

/**
 * For a CLI test file whose database `get()` gives once its own beforeAll has run: an API
 * server on that database (hooks registered here; register this after the database's) with
 * `serverEnv` (or what it returns then), an operator with a token, and `cli(...)` running
 * the CLI as that operator. The fields are set once the file's tests run; the functions
 * may be taken at once.
 */
export function withCliApi(
  get: () => { db: Db; url: string },
  serverEnv: Record<string, string> | (() => Record<string, string>) = {},
): CliApi {
  let api: TestApi | undefined;
  let operator: CliApi["operator"] | undefined;
  let token: string | undefined;
  const ready = () => {
    if (!api || !operator || !token) throw new Error("withCliApi: its beforeAll has not run yet");
    return { api, operator, token };
  };
  const tokenFor = async (userId: string, days?: number) =>
    (await issueToken(get().db, userId, { name: "cli test", days })).token;
  const cliWith = (env: Record<string, string>, ...args: string[]) =>
    runCli({ VMATRIX_URL: ready().api.url, VMATRIX_TOKEN: "", ...env }, args);
  beforeAll(async () => {
    const { db, url } = get();
    api = await startTestApi({ DATABASE_URL: url, ...(typeof serverEnv === "function" ? serverEnv() : serverEnv) });
    const tag = randomBytes(4).toString("hex");
    operator = await db.user.create({
      data: { id: `cli-${tag}`, email: `cli-operator-${tag}@test.example`, name: "CLI operator", role: "OPERATOR" },
      select: { id: true, email: true },
    });
    token = await tokenFor(operator.id);
  });
  afterAll(() => api?.stop());
  return {
    get url() {
      return ready().api.url;
    },
    get operator() {
      return ready().operator;
    },
    get token() {
      return ready().token;
    },
    cli: (...args: string[]) => cliWith({ VMATRIX_TOKEN: ready().token }, ...args),
    cliWith,
    tokenFor,
  };
}

/**
 * For a CLI test file: a fresh database with the test world and an API server on it (hooks
 * registered here), and `cli(...)` running the CLI as an operator (`api` has the rest). The
 * fields are set once the file's tests run.
 */
export function withCliWorld(serverEnv: Record<string, string> = {}) {
  const t = {} as { db: Db; url: string; w: World; cli: CliApi["cli"]; api: CliApi };
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const created = await createTestDatabase();
    drop = created.drop;
    Object.assign(t, { db: created.db, url: created.url, w: await makeWorld(created.db) });
  });
  afterAll(() => drop?.());
  t.api = withCliApi(() => t, serverEnv);
  t.cli = t.api.cli;
  return t;
}
type World = Awaited<ReturnType<typeof makeWorld>>;
