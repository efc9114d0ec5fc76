import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpsLab, type OpsLab } from "../../test/ops-lab";
import { createDb, type Db } from "../db/client";
import type { HostDriver } from "../hosts/driver";
import { LEASE_TTL_MS, leaseOf } from "./lease";
import { requestOperation } from "./request";
import { LEASE_CLASS, startOperationsWorker } from "./worker";

// Fenced leases (issue 14), against a real PostgreSQL and the sim lab: a lease connection
// lost under a running operation, two runners racing for one operation, and an oracle cut
// off from the database whose operation another oracle resumes once the lease expires.

type Worker = Awaited<ReturnType<typeof startOperationsWorker>>;
let t: OpsLab;

beforeAll(async () => {
  t = await startOpsLab(undefined, { productionHosts: 5 });
});
afterAll(async () => {
  await t?.stop();
});

/** Polls until `check` is true (or throws after `ms`). */
async function until(what: string, check: () => Promise<boolean>, ms = 60_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The host driver, recording when each of its methods is called (to see what a runner did after a point). */
function recording(driver: HostDriver) {
  const calls: { at: number; method: string }[] = [];
  const proxy = new Proxy(driver, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.push({ at: performance.now(), method: String(prop) });
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { driver: proxy, since: (at: number) => calls.filter((c) => c.at >= at).map((c) => c.method) };
}

/**
 * A TCP proxy in front of the test's PostgreSQL: `cut()` stops every byte both ways (a
 * network partition: nothing is refused or reset, queries just get no answer), `heal()`
 * delivers what waited, as TCP would after a short partition.
 */
async function partitionableProxy(url: string) {
  const target = new URL(url);
  const sockets = new Set<net.Socket>();
  let cut = false;
  const held: [net.Socket, Buffer][] = [];
  const forward = (from: net.Socket, to: net.Socket) => {
    from.on("data", (d: Buffer) => (cut ? held.push([to, d]) : to.write(d)));
    from.on("error", () => to.destroy());
    from.on("close", () => to.destroy());
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const proxied = new URL(url);
  proxied.hostname = "127.0.0.1";
  proxied.port = String((server.address() as net.AddressInfo).port);
  return {
    url: proxied.toString(),
    cut: () => void (cut = true),
    heal() {
      cut = false;
      for (const [to, d] of held.splice(0)) if (!to.destroyed) to.write(d);
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("an operation whose lease connection is lost", () => {
  let worker: Worker | undefined;
  afterAll(async () => {
    await worker?.stop();
  });

  it("does not take the oracle down (no unhandled error), and the operation still ends once, succeeded", async () => {
    let killed = 0;
    worker = await startOperationsWorker(t.db, t.driver, {
      connectionString: t.url,
      concurrency: 1,
      hooks: {
        async afterStep(_operationId, step) {
          if (step !== "copy disk" || killed > 0) return;
          // The backend holding this operation's lease (in this test's database: the server
          // is shared), ended as a restart would end it.
          const ended = await t.db.$queryRaw<{ ended: boolean }[]>`
            SELECT pg_terminate_backend(pid) AS ended FROM (
              SELECT DISTINCT l.pid FROM pg_locks l
               WHERE l.locktype = 'advisory' AND l.granted AND l.classid = ${LEASE_CLASS}::int::oid
                 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())) lease`;
          killed = ended.filter((r) => r.ended).length;
        },
      },
    });
    const vm = await t.makeVm("lease-1", "ops-nest", true);
    const op = await requestOperation(t.db, {
      kind: "ACTIVATE",
      vmId: vm.id,
      requestedById: t.world.operator.id,
      targetHostId: t.hosts["ops-prod-a"]!.id,
    });
    const done = await t.finished(op.id);
    expect(killed).toBe(1);
    expect(done.state, done.error ?? "").toBe("SUCCEEDED");
    expect(done.steps.every((s) => s.state === "DONE")).toBe(true);
    // It was run twice: the run that lost its lease stopped, the retry claimed the next token.
    expect(done.leaseToken).toBeGreaterThanOrEqual(2n);
    const after = await t.db.vm.findUniqueOrThrow({ where: { id: vm.id } });
    expect(after).toMatchObject({ phase: "PRODUCTION", power: "RUNNING" });
    expect(await t.domainNames("ops-prod-a")).toEqual(["lease-1:running"]);
    expect(await t.domainNames("ops-nest")).toEqual([]);
    await worker.stop();
    worker = undefined;
  });
});

describe("two runners racing for one operation", () => {
  let a: Worker | undefined;
  let b: Worker | undefined;
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  it("lets only the token holder's writes land; the fenced runner stops before its next side effect", async () => {
    const vm = await t.makeVm("race-1", "ops-nest", true);
    const recorded = recording(t.driver);
    let fencedFrom = Infinity;
    let aToken = 0n;
    // Runner A does not renew during the test (its lease, as the database sees it, is
    // expired by hand below, as if its renewals had been lost), but its own clock says it
    // still holds the lease: only the database's token check stands between it and a write.
    a = await startOperationsWorker(t.db, recorded.driver, {
      connectionString: t.url,
      concurrency: 1,
      leaseRenewMs: 60_000,
      hooks: {
        async afterStep(operationId, step) {
          if (step !== "copy disk" || aToken !== 0n) return;
          aToken = (await leaseOf(t.db, operationId))!.leaseToken;
          await t.db
            .$executeRaw`UPDATE "Operation" SET "leaseExpiresAt" = now() - interval '1 second' WHERE id = ${operationId}`;
          // Runner B finds the expired lease, claims the next token and runs the operation to its end.
          b = await startOperationsWorker(t.db, t.driver, {
            connectionString: t.url,
            concurrency: 1,
            orphanAfterMs: 0,
            pollIntervalMs: 100,
          });
          await b.recover();
          await until("runner B to finish the operation", async () => {
            const op = await t.db.operation.findUniqueOrThrow({ where: { id: operationId } });
            return op.state === "SUCCEEDED";
          });
          fencedFrom = performance.now();
          // A goes on from here, believing it holds the lease: its next step's first write is fenced.
        },
      },
    });
    const op = await requestOperation(t.db, {
      kind: "ACTIVATE",
      vmId: vm.id,
      requestedById: null,
      targetHostId: t.hosts["ops-prod-b"]!.id,
    });
    await until("runner A to be fenced", async () => fencedFrom < Infinity, 60_000);
    // A's run ends (fenced); stopping A waits for it.
    await a.stop();
    a = undefined;

    const done = await t.db.operation.findUniqueOrThrow({
      where: { id: op.id },
      include: { steps: { orderBy: { index: "asc" } } },
    });
    expect(done.state, done.error ?? "").toBe("SUCCEEDED");
    // B's token is past A's (on a loaded machine B may have renewed late and claimed again: +2).
    expect(done.leaseToken).toBeGreaterThan(aToken);
    expect(done.leaseHolder).toBe(b!.holder);
    // A's write (the next step's RUNNING) would have turned a DONE step back: none was.
    expect(done.steps.map((s) => s.state)).toEqual(done.steps.map(() => "DONE"));
    // And A touched no host after it was fenced.
    expect(recorded.since(fencedFrom)).toEqual([]);
    expect(await t.domainNames("ops-prod-b")).toEqual(["race-1:running"]);
    expect(await t.domainNames("ops-nest")).toEqual([]);
    expect(await t.fileNames("ops-nest", "race-1")).toEqual([]);
  });
});

describe("an oracle cut off from the database", () => {
  let a: Worker | undefined;
  let b: Worker | undefined;
  let aDb: Db | undefined;
  let proxy: Awaited<ReturnType<typeof partitionableProxy>> | undefined;
  afterAll(async () => {
    proxy?.heal();
    await a?.stop();
    await b?.stop();
    await aDb?.$disconnect();
    await proxy?.close();
  });

  it(
    "stops before its next side effect, and another oracle resumes its operation within the lease's TTL plus a recovery period",
    { timeout: 120_000 },
    async () => {
      proxy = await partitionableProxy(t.url);
      aDb = createDb(proxy.url, 4);
      const recorded = recording(t.driver);
      let cutAt = 0;
      // Oracle A reaches PostgreSQL through the proxy, and with default lease settings.
      a = await startOperationsWorker(aDb, recorded.driver, {
        connectionString: proxy.url,
        concurrency: 1,
        hooks: {
          afterStep(_operationId, step) {
            if (step !== "copy disk" || cutAt) return;
            proxy!.cut();
            cutAt = performance.now();
          },
        },
      });
      const vm = await t.makeVm("cut-1", "ops-nest", true);
      const op = await requestOperation(t.db, {
        kind: "ACTIVATE",
        vmId: vm.id,
        requestedById: null,
        targetHostId: t.hosts["ops-prod-c"]!.id,
      });
      await until(
        "oracle A to claim the operation",
        async () => (await leaseOf(t.db, op.id))?.leaseHolder === a!.holder,
      );
      // Oracle B, with the defaults an oracle runs with (recovery every 5 s, the queue polled every 2 s).
      b = await startOperationsWorker(t.db, t.driver, { connectionString: t.url, concurrency: 1 });
      await until("the partition", async () => cutAt > 0);

      await until(
        "oracle B to claim the operation",
        async () => (await leaseOf(t.db, op.id))?.leaseHolder === b!.holder,
        60_000,
      );
      const claimedAfter = (performance.now() - cutAt) / 1000;
      const done = await t.finished(op.id);
      const finishedAfter = (performance.now() - cutAt) / 1000;
      console.log(
        `[lease] oracle cut off after copy disk: another oracle claimed its operation after ${claimedAfter.toFixed(1)} s (TTL ${LEASE_TTL_MS / 1000} s), finished it after ${finishedAfter.toFixed(1)} s`,
      );
      expect(done.state, done.error ?? "").toBe("SUCCEEDED");
      expect(done.steps.every((s) => s.state === "DONE")).toBe(true);
      // Not before the lease could have expired; within its TTL plus a recovery period and a poll.
      expect(claimedAfter).toBeGreaterThan(LEASE_TTL_MS / 1000 - 5 - 1);
      expect(claimedAfter).toBeLessThan(LEASE_TTL_MS / 1000 + 5 + 2 + 3);
      expect(finishedAfter).toBeLessThan(30);
      expect(await t.domainNames("ops-prod-c")).toEqual(["cut-1:running"]);

      // The partition heals: A's queued queries reach the database, and are fenced.
      const healedAt = performance.now();
      proxy.heal();
      await a.stop();
      a = undefined;
      expect(recorded.since(cutAt)).toEqual([]);
      expect(recorded.since(healedAt)).toEqual([]);
      const after = await t.db.operation.findUniqueOrThrow({
        where: { id: op.id },
        include: { steps: { orderBy: { index: "asc" } } },
      });
      expect(after.state).toBe("SUCCEEDED");
      expect(after.steps.every((s) => s.state === "DONE")).toBe(true);
      expect(after.leaseHolder).toBe(b.holder);
    },
  );
});

describe("a run that stalls (waits on something that never answers, outside any host command)", () => {
  let worker: Worker | undefined;
  afterAll(async () => {
    await worker?.stop();
  });

  it("stops renewing, gives its lease up and is left behind; the operation resumes and succeeds, and the stalled run writes nothing when it wakes", async () => {
    const stallAfterMs = 3000;
    let wake = () => {};
    let stalledAt = 0;
    let tokenThen = 0n;
    worker = await startOperationsWorker(t.db, t.driver, {
      connectionString: t.url,
      concurrency: 2,
      pollIntervalMs: 100,
      leaseRenewMs: 500,
      stallAfterMs,
      abandonAfterMs: 1000,
      hooks: {
        async afterStep(operationId, step) {
          if (step !== "copy disk" || stalledAt) return;
          tokenThen = (await leaseOf(t.db, operationId))!.leaseToken;
          stalledAt = performance.now();
          // A wait without an end of its own (what a database call on a broken pool was).
          await new Promise<void>((resolve) => (wake = resolve));
        },
      },
    });
    const vm = await t.makeVm("stall-1", "ops-nest", true);
    const op = await requestOperation(t.db, {
      kind: "ACTIVATE",
      vmId: vm.id,
      requestedById: null,
      targetHostId: t.hosts["ops-prod-d"]!.id,
    });
    await until("the run to stall", async () => stalledAt > 0);
    // While it stalls its lease is still renewed: nothing else may take the operation yet.
    await new Promise((r) => setTimeout(r, stallAfterMs / 2));
    expect((await leaseOf(t.db, op.id))!.leaseToken).toBe(tokenThen);
    await until(
      "another run to claim the operation",
      async () => (await leaseOf(t.db, op.id))!.leaseToken > tokenThen,
      30_000,
    );
    const claimedAfter = (performance.now() - stalledAt) / 1000;
    const done = await t.finished(op.id);
    console.log(
      `[lease] a run stalled after copy disk (stall limit ${stallAfterMs / 1000} s): the next run claimed the operation ${claimedAfter.toFixed(1)} s later`,
    );
    expect(done.state, done.error ?? "").toBe("SUCCEEDED");
    expect(done.steps.every((s) => s.state === "DONE")).toBe(true);
    // Not before the stall limit; within it, a renewal period, the grace and the queue's retry delay.
    expect(claimedAfter).toBeGreaterThan(stallAfterMs / 1000);
    expect(claimedAfter).toBeLessThan(stallAfterMs / 1000 + 0.5 + 1 + 5);

    // The stalled run wakes up: it is fenced, nothing of it lands.
    const before = await t.db.operation.findUniqueOrThrow({
      where: { id: op.id },
      include: { steps: { orderBy: { index: "asc" } } },
    });
    wake();
    await new Promise((r) => setTimeout(r, 500));
    const after = await t.db.operation.findUniqueOrThrow({
      where: { id: op.id },
      include: { steps: { orderBy: { index: "asc" } } },
    });
    expect(after).toEqual(before);
    expect(await t.domainNames("ops-prod-d")).toEqual(["stall-1:running"]);
    expect(await t.domainNames("ops-nest")).toEqual([]);
  });
});

describe("an operation in flight whose job has no attempt left", () => {
  let worker: Worker | undefined;
  afterAll(async () => {
    await worker?.stop();
  });

  it("gets fresh attempts from the worker's recovery and runs to its end, instead of blocking its VM forever", async () => {
    // A worker installs the queue; none runs while the job's attempts are spent below.
    await (await startOperationsWorker(t.db, t.driver, { connectionString: t.url, concurrency: 1 })).stop();
    const vm = await t.makeVm("lease-rearm", "ops-nest", true);
    const op = await requestOperation(t.db, {
      kind: "ACTIVATE",
      vmId: vm.id,
      requestedById: t.world.operator.id,
      targetHostId: t.hosts["ops-prod-e"]!.id,
    });
    // Its last attempt was spent (a lease lost on the eighth try, an oracle killed inside it).
    await t.db.$executeRaw`UPDATE graphile_worker._private_jobs SET attempts = max_attempts, last_error = 'LeaseLost'
                            WHERE key = ${`operation:${op.id}`}`;
    worker = await startOperationsWorker(t.db, t.driver, { connectionString: t.url, concurrency: 1 });
    const done = await t.finished(op.id);
    expect(done.state, done.error ?? "").toBe("SUCCEEDED");
    expect(await t.domainNames("ops-prod-e")).toEqual(["lease-rearm:running"]);
  });
});

describe("an operation whose last run lost its lease", () => {
  let worker: Worker | undefined;
  afterAll(async () => {
    await worker?.stop();
  });

  it("runs again at once, not after the queue's backoff (a database restart is not the operation's failure)", async () => {
    await (await startOperationsWorker(t.db, t.driver, { connectionString: t.url, concurrency: 1 })).stop();
    // A VM an earlier test left serving goes back to the Nest (every production host is taken by now).
    const vm = await t.db.vm.findFirstOrThrow({ where: { phase: "PRODUCTION", deletedAt: null } });
    const op = await requestOperation(t.db, { kind: "DEACTIVATE", vmId: vm.id, requestedById: t.world.operator.id });
    // As graphile-worker leaves it after a fifth run lost its lease: backed off by minutes.
    await t.db
      .$executeRaw`UPDATE graphile_worker._private_jobs SET attempts = 5, run_at = now() + interval '10 minutes',
                             last_error = ${`operation ${op.id}: lease (token 4) lost: its lease connection was lost (terminating connection due to unexpected postmaster exit)`}
                            WHERE key = ${`operation:${op.id}`}`;
    worker = await startOperationsWorker(t.db, t.driver, { connectionString: t.url, concurrency: 1 });
    const done = await t.finished(op.id);
    expect(done.state, done.error ?? "").toBe("SUCCEEDED");
    expect(await t.db.vm.findUniqueOrThrow({ where: { id: vm.id } })).toMatchObject({ phase: "NEST", power: "SAVED" });
  });
});
