/**
 * `npm run db:new-migration -- NAME`: writes the SQL that takes the database from the
 * schema of the last migration (prisma/schema.migrated.prisma) to prisma/schema.prisma
 * as a new migration folder. (`prisma migrate dev` crashes in the JS schema engine on
 * this schema's exclusion constraint; diffing two schema files needs no database.)
 * Constraints Prisma cannot express are added by hand to the generated file.
 */
import { spawnSync } from "node:child_process";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { provisionDatabase } from "../server/db/provision";
import { prismaEnv } from "./lib/prisma-env";

const name = process.argv[2];
if (!name || !/^[a-z][a-z0-9_]{0,60}$/.test(name)) {
  console.error("Usage: npm run db:new-migration -- NAME   (NAME: lower case letters, digits and _)");
  process.exit(2);
}
// The CLI opens the configured adapter even for a file-to-file diff.
const db = await provisionDatabase();
const cli = createRequire(import.meta.url).resolve("prisma/build/index.js");
const r = spawnSync(
  process.execPath,
  [
    cli,
    "migrate",
    "diff",
    "--from-schema-datamodel",
    "prisma/schema.migrated.prisma",
    "--to-schema-datamodel",
    "prisma/schema.prisma",
    "--script",
  ],
  { env: { ...process.env, ...prismaEnv(), DATABASE_URL: db.url }, encoding: "utf8" },
);
await db.stop();
if (r.status !== 0) {
  console.error(r.stderr || r.stdout);
  process.exit(1);
}
const sql = r.stdout.trim();
if (!sql || /^-- This is an empty migration\.?$/.test(sql)) {
  console.log("prisma/schema.prisma has no changes since the last migration.");
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
const dir = path.join("prisma", "migrations", `${stamp}_${name}`);
await mkdir(dir, { recursive: true });
await writeFile(path.join(dir, "migration.sql"), sql + "\n");
await copyFile("prisma/schema.prisma", "prisma/schema.migrated.prisma");
console.log(`Wrote ${dir}/migration.sql — review it, add any constraints by hand, commit it.`);
