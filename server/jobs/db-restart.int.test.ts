import { chmod, mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateDeploy } from "../../scripts/lib/database";
import { startOpsLab, type OpsLab } from "../../test/ops-lab";
import { createDb } from "../db/client";
import { startEmbeddedPostgres, type EmbeddedDb } from "../db/embedded";
import { SshHostDriver } from "../hosts/driver";
import { startOracle } from "../loops/oracle";
import { requestOperation } from "./request";
import { startOperationsWorker } from "./worker";

// A PostgreSQL restart in the middle of an operation (issue 14): the oracle must not crash
// (every pg client has an error listener), the run that lost its lease connection stops,
// graphile-worker can still record the job's end, and the operation finishes once the
// database is back. The shared test server cannot be restarted under the other test
// files, so this one runs a PostgreSQL of its own (the product's embedded one).

let embedded: EmbeddedDb | undefined;
let dir: string | undefined;
let t: OpsLab | undefined;
let worker: Awaited<ReturnType<typeof startOperationsWorker>> | undefined;
let restart: Promise<{ downAt: number; upAt: number }> | undefined;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "vmatrix-pg-restart-"));
  // As root the server runs as the "postgres" user: it must reach its data folder.
  await chmod(dir, 0o755);
  embedded = await startEmbeddedPostgres({ dataDir: path.join(dir, "pg"), port: await freePort() });
  await embedded.ensureDatabase("vmatrix_restart");
  const url = embedded.urlFor("vmatrix_restart");
  await migrateDeploy(url);
  const db = createDb(url, 4);
  t = await startOpsLab({ db, url, drop: () => db.$disconnect() });
  worker = await startOperationsWorker(t.db, t.driver, {
    connectionString: url,
    concurrency: 1,
    hooks: {
      afterStep(_operationId, step) {
        if (step !== "copy disk" || restart) return;
        // The database goes away while the operation runs on (not awaited here).
        restart = (async () => {
          await embedded!.stop();
          const downAt = performance.now();
          await new Promise((r) => setTimeout(r, 2000));
          await embedded!.restart();
          return { downAt, upAt: performance.now() };
        })();
      },
    },
  });
}, 240_000);

afterAll(async () => {
  await worker?.stop();
  await t?.stop();
  await embedded?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("a database restart in the middle of an operation", () => {
  it("does not take the oracle down, and the operation still ends once, succeeded", { timeout: 120_000 }, async () => {
    const lab = t!;
    const vm = await lab.makeVm("restart-1", "ops-nest", true);
    const nestSha = await lab.driver.sha256(lab.target("ops-nest"), vm.diskPath!);
    const op = await requestOperation(lab.db, { kind: "ACTIVATE", vmId: vm.id, requestedById: null });
    // Polled through the restart: a read that fails while the database is away is tried again.
    const deadline = Date.now() + 90_000;
    let done: Awaited<ReturnType<typeof lab.finished>> | null = null;
    while (!done) {
      if (Date.now() > deadline) throw new Error("the operation did not end within 90 s of the restart");
      try {
        const row = await lab.db.operation.findUniqueOrThrow({
          where: { id: op.id },
          include: { steps: { orderBy: { index: "asc" } } },
        });
        if (!["QUEUED", "RUNNING", "CANCELLING"].includes(row.state)) done = row;
      } catch {
        // The database is restarting.
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const { downAt, upAt } = await restart!;
    console.log(
      `[db restart] the database was down ${((upAt - downAt) / 1000).toFixed(1)} s; the operation ended ${((performance.now() - upAt) / 1000).toFixed(1)} s after it was back`,
    );
    expect(done.state, done.error ?? "").toBe("SUCCEEDED");
    expect(done.steps.every((s) => s.state === "DONE")).toBe(true);
    // The run that lost its lease connection stopped; a later one claimed the next token.
    expect(done.leaseToken).toBeGreaterThanOrEqual(2n);
    const after = await lab.db.vm.findUniqueOrThrow({ where: { id: vm.id }, include: { host: true } });
    expect(after).toMatchObject({ phase: "PRODUCTION", power: "RUNNING" });
    expect(await lab.domainNames(after.host!.name)).toEqual(["restart-1:running"]);
    expect(await lab.driver.sha256(lab.target(after.host!.name), after.diskPath!)).toBe(nestSha);
    expect(await lab.domainNames("ops-nest")).toEqual([]);
    expect(await lab.fileNames("ops-nest", "restart-1")).toEqual([]);

    // The oracle's worker still runs operations after the restart.
    const back = await requestOperation(lab.db, { kind: "DEACTIVATE", vmId: vm.id, requestedById: null });
    expect((await lab.finished(back.id)).state).toBe("SUCCEEDED");
  });

  it(
    "an oracle started while the database is away runs operations once it is back (its worker is started again)",
    { timeout: 120_000 },
    async () => {
      const lab = t!;
      await worker!.stop();
      worker = undefined;
      const vm = await lab.makeVm("restart-2", "ops-nest", true);
      await embedded!.stop();
      // An oracle restarted beside a database that is still coming back (the chaos soak's case).
      const driver = new SshHostDriver(lab.driverTimeouts);
      const oracle = startOracle(lab.db, driver, {
        heartbeatIntervalMs: 60_000,
        downAfter: 3,
        hostingNetworks: [],
        operations: { concurrency: 1, connectionString: embedded!.urlFor("vmatrix_restart") },
      });
      try {
        await new Promise((r) => setTimeout(r, 2500));
        await embedded!.restart();
        const op = await requestOperation(lab.db, { kind: "ACTIVATE", vmId: vm.id, requestedById: null });
        const done = await lab.finished(op.id);
        expect(done.state, done.error ?? "").toBe("SUCCEEDED");
      } finally {
        await oracle.stop();
      }
    },
  );
});
