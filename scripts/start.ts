/**
 * `npm start`: the whole product on embedded defaults — PostgreSQL (embedded unless
 * DATABASE_URL is set), migrations, the demo world, and the web app — in one process
 * tree that stops cleanly on Ctrl-C. `npm run dev` does the same with `next dev`.
 * `npm start -- --lab libvirt` runs it on the libvirt lab's real hosts and edges instead
 * of the sim lab (root, Linux), with a small world of its own in .data/libvirt-world.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { SEED_USERS, DEMO_PASSWORD } from "../prisma/seed-data/world";
import { config, ConfigError } from "../server/config";
import { EmbeddedDbError, portIsFree } from "../server/db/embedded";
import { createDb } from "../server/db/client";
import { buildIfNeeded } from "./lib/build";
import { prepareDatabase, simLabKeyRef } from "./lib/database";
import { demandIngestToken } from "../server/demand/token";
import { materializeSeededVms, serviceLoads, startSimLabForWorld } from "./lib/sim-lab";
import { driveSimLoadFromDemand } from "./lib/sim-load";
import { startSimEdgesForWorld } from "../lab/sim/edge/world";
import { authSecret } from "./lib/secret";
import { startLibvirtWorld } from "./lib/libvirt-world";

const dev = process.argv.includes("--dev");
const labArg = process.argv.indexOf("--lab");
const lab = labArg >= 0 ? process.argv[labArg + 1] : "sim";
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

if (!(await portIsFree(cfg.PORT, cfg.HOSTNAME === "0.0.0.0" ? "0.0.0.0" : cfg.HOSTNAME))) {
  fail(
    `Port ${cfg.PORT} is already in use (is vMatrix already running?). Stop the other program or choose another port: PORT=3001 npm start`,
  );
}

const stops: (() => Promise<void>)[] = [];
let stopping = false;
async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  say("Stopping…");
  for (const stop of stops.reverse()) await stop().catch((e: unknown) => console.error(e));
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

let database;
try {
  database = await prepareDatabase({ log: say, seed: lab === "sim" });
} catch (err) {
  if (err instanceof EmbeddedDbError) fail(err.message);
  fail(
    `The database could not be prepared: ${err instanceof Error ? err.message : String(err)}` +
      (cfg.DATABASE_URL ? "\nCheck that DATABASE_URL points at a running PostgreSQL you can connect to." : ""),
  );
}
stops.push(database.stop);

if (lab === "libvirt") {
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

// The sim lab: one real SSH server per seeded host, in this process.
if (lab === "sim") await startSimWorld(database.url);

async function startSimWorld(url: string) {
  const labDb = createDb(url, 2);
  try {
    const keyRef = simLabKeyRef(cfg.VMATRIX_DATA_DIR);
    const lab = await startSimLabForWorld(labDb, { dataDir: cfg.VMATRIX_DATA_DIR, keyRef, log: say });
    stops.push(() => lab.stop());
    await materializeSeededVms(labDb, { keyRef, log: say });
    const edges = await startSimEdgesForWorld(labDb, cfg.VMATRIX_DATA_DIR);
    stops.push(() => edges.stop());
    process.env.EDGE_MANIFEST ??= edges.manifestPath;
    say(
      `Sim lab: ${edges.count} edges (HAProxy, nftables, public addresses); DNS on ${cfg.DNS_HOST}:${cfg.DNS_PORT}: dig @${cfg.DNS_HOST} -p ${cfg.DNS_PORT} map.${cfg.DNS_ZONE} A`,
    );
    // The lab's VMs use CPU for the demand they serve (metrics, autoscaler).
    const loadDb = createDb(url, 2);
    const loads = serviceLoads(loadDb, lab);
    const driver = driveSimLoadFromDemand(loadDb, loads, { log: say });
    stops.push(async () => {
      driver.stop();
      loads.stop();
      await loadDb.$disconnect();
    });
  } catch (err) {
    console.error(
      `\n[vmatrix] The sim lab did not start: ${err instanceof Error ? err.message : String(err)}. Is SIM_LAB_BASE_PORT (${cfg.SIM_LAB_BASE_PORT}) free, with the ports after it?\n`,
    );
    await shutdown(1);
  } finally {
    await labDb.$disconnect();
  }
}

const appUrl = cfg.APP_URL ?? `http://localhost:${cfg.PORT}`;
const env = {
  ...process.env,
  DATABASE_URL: database.url,
  BETTER_AUTH_SECRET: await authSecret(cfg.VMATRIX_DATA_DIR, cfg.BETTER_AUTH_SECRET),
  // Load balancers and DNS log shippers post demand with it (docs/demand.md).
  DEMAND_INGEST_TOKEN: await demandIngestToken(cfg.VMATRIX_DATA_DIR, cfg.DEMAND_INGEST_TOKEN),
  APP_URL: appUrl,
  PORT: String(cfg.PORT),
  NEXT_TELEMETRY_DISABLED: "1",
};

if (!dev) {
  try {
    await buildIfNeeded(say);
  } catch (err) {
    console.error(`\n[vmatrix] ${err instanceof Error ? err.message : String(err)}\n`);
    await shutdown(1);
  }
}

/** A child process that takes the whole product down if it dies unexpectedly. */
function child(name: string, args: string[], extraEnv: Record<string, string>): ChildProcess {
  const proc = spawn(process.execPath, args, { env: { ...env, ...extraEnv }, stdio: ["ignore", "inherit", "inherit"] });
  stops.push(async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill("SIGTERM");
    await new Promise((r) => proc.once("exit", r));
  });
  proc.on("exit", (code) => {
    if (!stopping) {
      console.error(`[vmatrix] The ${name} exited (code ${code}).`);
      void shutdown(code ?? 1);
    }
  });
  return proc;
}

// The Oracle: heartbeats (and, as they arrive, operations and control loops).
child("oracle", [path.resolve("node_modules/tsx/dist/cli.mjs"), "scripts/oracle.ts"], {});

// The authoritative DNS server (docs/network.md).
child("DNS server", [path.resolve("node_modules/tsx/dist/cli.mjs"), "server/dns/main.ts"], {});

const next = path.resolve("node_modules/next/dist/bin/next");
child("web app", [next, dev ? "dev" : "start", "-p", String(cfg.PORT), "-H", cfg.HOSTNAME], {
  NODE_ENV: dev ? "development" : "production",
});

// Wait until the app answers, then tell the user where it is.
const probe = `http://127.0.0.1:${cfg.PORT}/signin`;
for (let i = 0; i < 240 && !stopping; i++) {
  const ok = await fetch(probe).then(
    (r) => r.status < 500,
    () => false,
  );
  if (ok) break;
  await new Promise((r) => setTimeout(r, 500));
}
say("");
say(`vMatrix Control Plane is up: ${appUrl}`);
say(`Demo accounts (password "${DEMO_PASSWORD}"):`);
for (const u of SEED_USERS) say(`  ${u.email.padEnd(24)} ${u.role}`);
say(
  `Demand ingest token (POST ${appUrl}/api/demand, docs/demand.md): in ${path.join(cfg.VMATRIX_DATA_DIR, "demand-ingest-token")}`,
);
say("Press Ctrl-C to stop.");
