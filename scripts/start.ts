/**
 * `npm start`: the whole product on embedded defaults — PostgreSQL (embedded unless
 * DATABASE_URL is set), migrations, the demo world, the sim lab, the oracle, DNS and the
 * web app — each part supervised (restarted with growing delays when it dies, the others
 * unharmed), all stopped cleanly on Ctrl-C. `npm run dev` does the same with `next dev`.
 * `npm start -- --lab libvirt` runs it on the libvirt lab's real hosts and edges instead
 * of the sim lab (root, Linux), with a small world of its own in .data/libvirt-world.
 * `VMATRIX_MODE=production npm start` runs no lab and seeds nothing: no demo accounts, a
 * first administrator made once (docs/security.md, "Modes").
 */
import path from "node:path";
import { SEED_USERS, DEMO_PASSWORD } from "../prisma/seed-data/world";
import { config, ConfigError } from "../server/config";
import { EmbeddedDbError, portIsFree } from "../server/db/embedded";
import { createDb } from "../server/db/client";
import { buildIfNeeded } from "./lib/build";
import { prepareDatabase } from "./lib/database";
import { demandIngestToken } from "../server/demand/token";
import { authSecret } from "./lib/secret";
import { startLibvirtWorld } from "./lib/libvirt-world";
import { bootstrapAdmin, demoPasswordAccounts } from "./lib/production";
import { writeDemoTokens } from "./lib/demo-tokens";
import { isLocalBindAddress } from "../server/web/client-address";
import { databasePart } from "./lib/database-part";
import { restartAlerts } from "./lib/restart-alerts";
import { nodeChild, Supervisor } from "./lib/supervisor";
import { simWorldPart } from "./lib/sim-world-part";

const dev = process.argv.includes("--dev");
const labArg = process.argv.indexOf("--lab");
const labGiven = labArg >= 0;
const lab = labGiven ? process.argv[labArg + 1] : "sim";
if (lab !== "sim" && lab !== "libvirt") {
  console.error(`\n[vmatrix] --lab: "${lab ?? ""}" is not a lab; use --lab sim (the default) or --lab libvirt\n`);
  process.exit(2);
}
// The libvirt world is another world: its own database, beside the sim demo's.
if (lab === "libvirt") process.env.VMATRIX_DATA_DIR ??= ".data/libvirt-world";
const say = (line: string) => console.log(`[vmatrix] ${line}`);

function fail(message: string): never {
  console.error(`\n[vmatrix] ${message}\n`);
  process.exit(1);
}

let cfg: ReturnType<typeof config>;
try {
  cfg = config();
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  throw err;
}
const production = cfg.VMATRIX_MODE === "production";
if (production && labGiven)
  fail(
    "--lab: production mode runs no lab (the labs are demo worlds with demo accounts); drop --lab, or leave VMATRIX_MODE unset for the demo",
  );
// The world the product runs: a lab's (demo mode), or none (production: operators register real hosts).
const world = production ? null : lab;

if (!(await portIsFree(cfg.PORT, cfg.HOSTNAME === "0.0.0.0" ? "0.0.0.0" : cfg.HOSTNAME))) {
  fail(
    `Port ${cfg.PORT} is already in use (is vMatrix already running?). Stop the other program or choose another port: PORT=3001 npm start`,
  );
}

const supervisor = new Supervisor({
  log: say,
  onDeath: (e) => restarts.alerts?.death(e),
  onRestarted: (e) => restarts.alerts?.restarted(e),
});
// Set once the database is up (the first part started).
const restarts: { alerts?: ReturnType<typeof restartAlerts> } = {};
const cleanups: (() => Promise<void>)[] = [];
let stopping = false;
async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  say("Stopping…");
  await supervisor.stop();
  for (const stop of cleanups.reverse()) await stop().catch((e: unknown) => console.error(e));
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));
// The supervisor itself must not die of a stray error in a part's bookkeeping.
process.on("unhandledRejection", (err) => console.error("[vmatrix] unhandled rejection in the supervisor:", err));

let database;
try {
  database = await prepareDatabase({ log: say, seed: world === "sim" });
} catch (err) {
  if (err instanceof EmbeddedDbError) fail(err.message);
  fail(
    `The database could not be prepared: ${err instanceof Error ? err.message : String(err)}` +
      (cfg.DATABASE_URL ? "\nCheck that DATABASE_URL points at a running PostgreSQL you can connect to." : ""),
  );
}
// The embedded database is a part like the others.
await supervisor.add(databasePart(database));
const alertDb = createDb(database.url, 1);
const alerts = (restarts.alerts = restartAlerts(alertDb, { log: say }));
cleanups.push(async () => {
  await alerts.flush();
  alerts.stop();
  await alertDb.$disconnect();
});

// Demo passwords are public: no account may keep one where other machines reach the app.
// Production mode's first administrator is made once, with a one-time password shown once.
let bootstrap: Awaited<ReturnType<typeof bootstrapAdmin>> = { created: false };
{
  const checkDb = createDb(database.url, 2);
  try {
    if (production)
      bootstrap = await bootstrapAdmin(checkDb, {
        email: cfg.VMATRIX_ADMIN_EMAIL ?? `admin@${new URL(cfg.APP_URL!).hostname}`,
        password: cfg.VMATRIX_ADMIN_PASSWORD,
      });
    const exposed = isLocalBindAddress(cfg.HOSTNAME) ? [] : await demoPasswordAccounts(checkDb);
    if (exposed.length > 0) {
      console.error(
        `\n[vmatrix] HOSTNAME: ${cfg.HOSTNAME} is reachable from other machines and ${exposed.length} account(s) have the public demo password (${exposed.join(", ")}): ` +
          (production
            ? "change their passwords or remove them first (docs/security.md)\n"
            : "the demo listens on this machine only (unset HOSTNAME; from elsewhere: ssh -L 3000:127.0.0.1:3000 this-server), or run VMATRIX_MODE=production (docs/security.md)\n"),
      );
      await shutdown(1);
    }
  } catch (err) {
    console.error(`\n[vmatrix] ${err instanceof Error ? err.message : String(err)}\n`);
    await shutdown(1);
  } finally {
    await checkDb.$disconnect();
  }
}

// The demo's CLI tokens (.data/demo-tokens/<account>.token): the CLI uses operator.token when given none.
let demoTokensDir: string | undefined;
if (!production) {
  const tokenDb = createDb(database.url, 2);
  try {
    demoTokensDir = path.join(cfg.VMATRIX_DATA_DIR, "demo-tokens");
    await writeDemoTokens(
      tokenDb,
      demoTokensDir,
      SEED_USERS.map((u) => u.email),
    );
  } finally {
    await tokenDb.$disconnect();
  }
}

if (world === "libvirt") {
  const worldDb = createDb(database.url, 2);
  try {
    const world = await startLibvirtWorld(worldDb, say);
    process.env.EDGE_MANIFEST ??= world.edgeManifest;
    say(`libvirt lab: edges from ${world.edgeManifest}; DNS on ${cfg.DNS_HOST}:${cfg.DNS_PORT}`);
  } catch (err) {
    console.error(
      `\n[vmatrix] The libvirt lab world did not start: ${err instanceof Error ? err.message : String(err)}\n(The libvirt lab needs root on Linux: see lab/libvirt/README.md.)\n`,
    );
    await shutdown(1);
  } finally {
    await worldDb.$disconnect();
  }
}

// TypeScript parts run in one process each (tsx as a loader, not its CLI, which would put a
// second process in between: a signal to it would orphan the real one).
const tsx = (script: string) => ["--import", "tsx", script];
const appUrl = cfg.APP_URL ?? `http://localhost:${cfg.PORT}`;
const env: NodeJS.ProcessEnv = {
  ...process.env,
  DATABASE_URL: database.url,
  BETTER_AUTH_SECRET: await authSecret(cfg.VMATRIX_DATA_DIR, cfg.BETTER_AUTH_SECRET),
  // Load balancers and DNS log shippers post demand with it (docs/demand.md).
  DEMAND_INGEST_TOKEN: await demandIngestToken(cfg.VMATRIX_DATA_DIR, cfg.DEMAND_INGEST_TOKEN),
  APP_URL: appUrl,
  PORT: String(cfg.PORT),
  HOSTNAME: cfg.HOSTNAME,
  NEXT_TELEMETRY_DISABLED: "1",
};

// The sim lab: one real SSH server per seeded host, and the sim edges, in a process of their own.
if (world === "sim") {
  try {
    await supervisor.add(simWorld());
  } catch (err) {
    console.error(`\n[vmatrix] ${err instanceof Error ? err.message : String(err)}\n`);
    await shutdown(1);
  }
}

function simWorld() {
  return simWorldPart({
    env,
    onReady: (m) => {
      env.EDGE_MANIFEST ??= m.edgeManifest;
      say(
        `Sim lab: ${m.edges} edges (HAProxy, nftables, public addresses); DNS on ${cfg.DNS_HOST}:${cfg.DNS_PORT}: dig @${cfg.DNS_HOST} -p ${cfg.DNS_PORT} map.${cfg.DNS_ZONE} A`,
      );
    },
  });
}

if (!dev) {
  try {
    await buildIfNeeded(say);
  } catch (err) {
    console.error(`\n[vmatrix] ${err instanceof Error ? err.message : String(err)}\n`);
    await shutdown(1);
  }
}

/** A long-running child of the product, supervised. */
async function child(name: string, args: string[], extraEnv: Record<string, string> = {}, ready?: () => Promise<void>) {
  try {
    await supervisor.add(nodeChild(name, args, { env: { ...env, ...extraEnv }, ready: ready && (() => ready()) }));
  } catch (err) {
    console.error(`\n[vmatrix] The ${name} did not start: ${err instanceof Error ? err.message : String(err)}\n`);
    await shutdown(1);
  }
}

/** Resolves once the web app answers (a restarted one is "up" only then). */
async function webAnswers() {
  // A wildcard or loopback bind answers on 127.0.0.1; a specific address only on itself.
  const wildcard = ["0.0.0.0", "::", "[::]"].includes(cfg.HOSTNAME) || isLocalBindAddress(cfg.HOSTNAME);
  const host = wildcard ? "127.0.0.1" : cfg.HOSTNAME.includes(":") ? `[${cfg.HOSTNAME}]` : cfg.HOSTNAME;
  const probe = `http://${host}:${cfg.PORT}/signin`;
  for (let i = 0; i < 240; i++) {
    const ok = await fetch(probe).then(
      (r) => r.status < 500,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`it did not answer on ${probe} within 120 s`);
}

// The Oracle: heartbeats, operations and control loops.
await child("oracle", tsx("scripts/oracle.ts"));
// The authoritative DNS server (docs/network.md).
await child("DNS server", tsx("server/dns/main.ts"));
// The web app behind its own HTTP front: the client's real address, security headers (scripts/web.ts).
await child(
  "web app",
  [...tsx("scripts/web.ts"), ...(dev ? ["--dev"] : [])],
  { NODE_ENV: dev ? "development" : "production" },
  webAnswers,
);

say("");
say(`vMatrix Control Plane is up: ${appUrl}`);
if (!production) {
  say(`Demo accounts (password "${DEMO_PASSWORD}"):`);
  for (const u of SEED_USERS) say(`  ${u.email.padEnd(24)} ${u.role}`);
  if (demoTokensDir)
    say(`CLI tokens for them: ${demoTokensDir}/<name>.token (npm run vmatrix -- … uses operator.token)`);
} else if (bootstrap.created) {
  say(`First administrator: ${bootstrap.email}`);
  if (bootstrap.generatedPassword)
    say(
      `  one-time password: ${bootstrap.generatedPassword}   (shown only now; a new password is chosen at first sign-in)`,
    );
  else say("  password: VMATRIX_ADMIN_PASSWORD (a new password is chosen at first sign-in)");
}
say(
  `Demand ingest token (POST ${appUrl}/api/demand, docs/demand.md): in ${path.join(cfg.VMATRIX_DATA_DIR, "demand-ingest-token")}`,
);
say("Press Ctrl-C to stop. Each part is restarted if it dies (docs/faults.md).");
