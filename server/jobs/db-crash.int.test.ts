import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateDeploy } from "../../scripts/lib/database";
import { startOpsLab, type OpsLab } from "../../test/ops-lab";
import { createDb, type Db } from "../db/client";
import { startEmbeddedPostgres, type EmbeddedDb } from "../db/embedded";
import type { HostDriver } from "../hosts/driver";
import { CommandAbortedError } from "../hosts/errors";
import { runLoop, singletonLoop } from "../loops/frame";
import { log } from "../log";
import { leaseOf } from "./lease";
import { requestOperation } from "./request";
import { startOperationsWorker } from "./worker";

// A PostgreSQL crash under a busy oracle (the chaos soak's postgres-restart): the
// postmaster is SIGKILLed while copies are in flight and the oracle's singleton loops are
// inside their passes (each holds its transaction while it works, as the product's do),
// and the supervisor starts it again a second later. Every transaction the crash cut must
// give its pool connection back: the oracle's operations resume and end, and its loops go
// on. (Found by `npm run chaos`: an oracle whose operations stayed RUNNING for minutes with
// their leases renewed, and whose loops stopped.) The shared test server cannot be
// crashed under the other test files, so this one runs a PostgreSQL of its own.

let embedded: EmbeddedDb | undefined;
let dir: string | undefined;
let t: OpsLab | undefined;
/** The oracle's database client (its loops and its operations share it, as in scripts/oracle.ts). */
let oracleDb: Db | undefined;
let worker: Awaited<ReturnType<typeof startOperationsWorker>> | undefined;
let loops: { stop(): Promise<void> }[] = [];

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean | Promise<boolean>, ms: number) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The host driver, with every copy held in flight while `hold` is set (it still stops on its abort signal). */
function holdingCopies(driver: HostDriver) {
  const state = { hold: true, inFlight: 0 };
  const proxy = new Proxy(driver, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      if (prop !== "transferMany") return (value as (...a: unknown[]) => unknown).bind(target);
      return async (...args: Parameters<HostDriver["transferMany"]>) => {
        const [from, , , options] = args;
        if (state.hold) {
          state.inFlight++;
          try {
            await new Promise<void>((resolve, reject) => {
              const timer = setInterval(() => !state.hold && (clearInterval(timer), resolve()), 20);
              options?.signal?.addEventListener("abort", () => {
                clearInterval(timer);
                reject(new CommandAbortedError(from.name, "copy"));
              });
            });
          } finally {
            state.inFlight--;
          }
        }
        return target.transferMany(...args);
      };
    },
  });
  return { driver: proxy, state };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "vmatrix-pg-crash-"));
  // As root the server runs as the "postgres" user: it must reach its data folder.
  await chmod(dir, 0o755);
  embedded = await startEmbeddedPostgres({ dataDir: path.join(dir, "pg"), port: await freePort() });
  await embedded.ensureDatabase("vmatrix_crash");
  const url = embedded.urlFor("vmatrix_crash");
  await migrateDeploy(url);
  // The lab's own client (the test's view), apart from the oracle's.
  const labDb = createDb(url, 4);
  t = await startOpsLab({ db: labDb, url, drop: () => labDb.$disconnect() }, { productionHosts: 3 });
}, 240_000);

afterAll(async () => {
  await worker?.stop();
  await Promise.all(loops.map((l) => l.stop()));
  await oracleDb?.$disconnect();
  await t?.stop();
  await embedded?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("a PostgreSQL crash with copies in flight", () => {
  it("leaves the oracle whole: its operations resume and succeed, its loops go on", { timeout: 180_000 }, async () => {
    const lab = t!;
    const url = lab.url;
    oracleDb = createDb(url, 4);
    const copies = holdingCopies(lab.driver);
    worker = await startOperationsWorker(oracleDb, copies.driver, {
      connectionString: url,
      concurrency: 3,
      pollIntervalMs: 200,
    });
    // Two singleton loops, built as the oracle's are: each pass holds its transaction (and
    // with it the loop's lock) while it works on the hosts and reads the database.
    const passes = { inside: 0, done: 0 };
    const ctx = { db: oracleDb, driver: lab.driver, scope: async () => undefined, logger: log };
    loops = ["pass-a", "pass-b"].map((name) =>
      runLoop(
        singletonLoop(name, 50, async ({ db, driver }) => {
          passes.inside++;
          try {
            await db.vm.count();
            // Its work on the hosts (SSH round trips), its transaction open meanwhile.
            for (const host of ["ops-nest", "ops-prod-a", "ops-prod-b", "ops-prod-c"])
              await driver.listDomains(lab.target(host));
            await sleep(400);
            await db.host.count();
          } finally {
            passes.inside--;
          }
          passes.done++;
        }),
        ctx,
      ),
    );

    const vms = await Promise.all(["crash-1", "crash-2", "crash-3"].map((n) => lab.makeVm(n, "ops-nest", true)));
    const ops = await Promise.all(
      vms.map((vm, i) =>
        requestOperation(lab.db, {
          kind: "ACTIVATE",
          vmId: vm.id,
          requestedById: null,
          targetHostId: lab.hosts[`ops-prod-${"abc"[i]}`]!.id,
        }),
      ),
    );
    await until("three copies in flight and both loops inside a pass", () => copies.state.inFlight === 3, 60_000);
    await until("both loops inside a pass", () => passes.inside === 2, 10_000);

    // The chaos soak's fault: SIGKILL of the postmaster; the supervisor starts it again 1 s later.
    const pid = Number((await readFile(path.join(dir!, "pg", "postmaster.pid"), "utf8")).split("\n")[0]);
    process.kill(pid, "SIGKILL");
    await sleep(1000);
    await embedded!.restart();
    const upAt = performance.now();
    copies.state.hold = false;
    const doneBefore = passes.done;

    // Every operation ends, succeeded, soon after the database is back.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const rows = await lab.db.operation.findMany({
        where: { id: { in: ops.map((o) => o.id) } },
        include: { steps: { orderBy: { index: "asc" } } },
      });
      if (rows.every((r) => !["QUEUED", "RUNNING", "CANCELLING"].includes(r.state))) break;
      if (Date.now() > deadline) {
        const stuck = rows
          .filter((r) => r.state === "RUNNING")
          .map((r) => {
            const step = r.steps.find((s) => s.state === "RUNNING");
            return `${r.id} in "${step?.name ?? "?"}" (lease token ${r.leaseToken}, holder ${r.leaseHolder === worker!.holder ? "this oracle" : r.leaseHolder}, until ${r.leaseExpiresAt?.toISOString()})`;
          });
        throw new Error(`operations still running 60 s after the database came back: ${stuck.join("; ")}`);
      }
      await sleep(200);
    }
    const endedAfter = (performance.now() - upAt) / 1000;
    // The oracle's loops pass again, and its database client answers at once.
    await until("the oracle's loops to pass again", () => passes.done >= doneBefore + 2, 30_000);
    const asked = performance.now();
    await oracleDb.$queryRaw`SELECT 1`;
    const answeredMs = performance.now() - asked;
    console.log(
      `[db crash] 3 copies in flight, 2 loop passes inside their transactions: the operations ended ${endedAfter.toFixed(1)} s after the database was back; the oracle's client answered in ${answeredMs.toFixed(0)} ms`,
    );
    expect(answeredMs).toBeLessThan(2000);

    for (const [i, op] of ops.entries()) {
      const done = await lab.db.operation.findUniqueOrThrow({
        where: { id: op.id },
        include: { steps: { orderBy: { index: "asc" } } },
      });
      expect(done.state, done.error ?? "").toBe("SUCCEEDED");
      expect(done.steps.every((s) => s.state === "DONE")).toBe(true);
      // The run that lost its lease connection stopped; a later one claimed the next token.
      expect((await leaseOf(lab.db, op.id))!.leaseToken).toBeGreaterThanOrEqual(2n);
      const host = `ops-prod-${"abc"[i]}`;
      expect(await lab.domainNames(host)).toEqual([`crash-${i + 1}:running`]);
    }
    expect(await lab.domainNames("ops-nest")).toEqual([]);
  });
});
