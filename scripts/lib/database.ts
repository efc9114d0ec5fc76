import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import pg from "pg";
import { seedDemoWorld } from "../../prisma/seed";
import { config } from "../../server/config";
import { createDb } from "../../server/db/client";
import { provisionDatabase } from "../../server/db/provision";
import { prismaEnv } from "./prisma-env";

/**
 * True when every committed migration is already applied with the same checksum. The
 * Prisma CLI takes ~12 s to start its WebAssembly schema engine, so `npm start` skips it
 * when there is nothing to do; any difference goes through `prisma migrate deploy`.
 */
async function migrationsUpToDate(url: string): Promise<boolean> {
  const dir = path.resolve("prisma", "migrations");
  const names = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  const client = new pg.Client({ connectionString: url });
  // A server gone while it idles must not crash the process: awaited calls report errors.
  client.on("error", () => undefined);
  await client.connect();
  try {
    const table = await client.query("SELECT to_regclass('public._prisma_migrations') AS t");
    if (!table.rows[0]?.t) return false;
    const applied = await client.query<{ migration_name: string; checksum: string }>(
      "SELECT migration_name, checksum FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL",
    );
    const byName = new Map(applied.rows.map((r) => [r.migration_name, r.checksum]));
    for (const name of names) {
      const sql = await readFile(path.join(dir, name, "migration.sql"));
      if (byName.get(name) !== createHash("sha256").update(sql).digest("hex")) return false;
    }
    return applied.rows.length === names.length;
  } finally {
    await client.end();
  }
}

/** Applies committed migrations with `prisma migrate deploy` (JS schema engine). */
export async function migrateDeploy(url: string): Promise<void> {
  const cli = createRequire(import.meta.url).resolve("prisma/build/index.js");
  const child = spawn(process.execPath, [cli, "migrate", "deploy"], {
    env: { ...process.env, ...prismaEnv(), DATABASE_URL: url },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const code: number = await new Promise((resolve) => child.on("exit", (c) => resolve(c ?? 1)));
  if (code !== 0) throw new Error(`prisma migrate deploy failed:\n${output.trim()}`);
}

/** The sim lab's client key (lab/sim writes it under its data folder). */
export function simLabKeyRef(dataDir: string): string {
  return `file:${path.resolve(dataDir, "lab-sim", "client", "id_ed25519")}`;
}

/** Database up (embedded unless DATABASE_URL), migrated and seeded. */
export async function prepareDatabase(opts: { log: (line: string) => void; seed?: boolean }) {
  const cfg = config();
  const db = await provisionDatabase();
  opts.log(
    db.embedded
      ? `Embedded PostgreSQL ready (data in ${path.join(cfg.VMATRIX_DATA_DIR, "pg")}).`
      : "Using DATABASE_URL.",
  );
  if (await migrationsUpToDate(db.url)) opts.log("Migrations up to date.");
  else {
    await migrateDeploy(db.url);
    opts.log("Migrations applied.");
  }
  if (opts.seed !== false) {
    const client = createDb(db.url, 2);
    try {
      const counts = await seedDemoWorld(client, {
        simLabBasePort: cfg.SIM_LAB_BASE_PORT,
        sshKeyRef: simLabKeyRef(cfg.VMATRIX_DATA_DIR),
      });
      opts.log(
        `Demo world: ${counts.hostingNetworks} hosting networks, ${counts.hosts} hosts, ${counts.services} services, ${counts.vms} VMs, ${counts.users} users.`,
      );
    } finally {
      await client.$disconnect();
    }
  }
  return db;
}
