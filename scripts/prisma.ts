/**
 * Runs the Prisma CLI offline: engine download attempts are switched off (the JS engine
 * needs no binaries) and, when DATABASE_URL is unset, the embedded PostgreSQL is used.
 * Usage: npm run prisma -- <prisma args>
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { provisionDatabase } from "../server/db/provision";
import { prismaEnv } from "./lib/prisma-env";

const args = process.argv.slice(2);
const needsDb = !["generate", "format", "validate", "--version", "-v", "version"].includes(args[0] ?? "");
const db = needsDb ? await provisionDatabase() : undefined;
const cli = createRequire(import.meta.url).resolve("prisma/build/index.js");
const child = spawn(process.execPath, [cli, ...args], {
  stdio: "inherit",
  env: { ...process.env, ...prismaEnv(), ...(db ? { DATABASE_URL: db.url } : {}) },
});
const code: number = await new Promise((resolve) => child.on("exit", (c) => resolve(c ?? 1)));
await db?.stop();
process.exit(code);
