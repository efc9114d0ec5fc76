import { describe, expect, it } from "vitest";
import type { Db } from "../db/client";
import { HostConnectionLostError, HostUnreachableError } from "../hosts/errors";
import { fencedDriver, isDatabaseUnavailable, LeaseLost, OperationLease } from "./lease";

describe("isDatabaseUnavailable", () => {
  const pgError = (code: string, message: string) => Object.assign(new Error(message), { code, severity: "FATAL" });

  it("knows a database restart, a refused or dropped connection, a pool timeout, through Prisma's wrapping", () => {
    expect(isDatabaseUnavailable(pgError("57P01", "terminating connection due to administrator command"))).toBe(true);
    expect(isDatabaseUnavailable(pgError("57P03", "the database system is starting up"))).toBe(true);
    expect(isDatabaseUnavailable(new Error("Connection terminated unexpectedly"))).toBe(true);
    expect(
      isDatabaseUnavailable(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" })),
    ).toBe(true);
    const prisma = Object.assign(new Error("Server has closed the connection."), { code: "P1017" });
    expect(isDatabaseUnavailable(prisma)).toBe(true);
    const wrapped = Object.assign(new Error("Raw query failed. Code: `N/A`."), {
      code: "P2010",
      meta: { driverAdapterError: { cause: { originalCode: "57P01" } } },
    });
    expect(isDatabaseUnavailable(wrapped)).toBe(true);
    expect(isDatabaseUnavailable(new Error("outer", { cause: pgError("08006", "connection failure") }))).toBe(true);
    // A crash (postmaster killed), a pooled connection it broke, a pool that had none free in time.
    expect(isDatabaseUnavailable(new Error("terminating connection due to unexpected postmaster exit"))).toBe(true);
    expect(isDatabaseUnavailable(new Error("Client has encountered a connection error and is not queryable"))).toBe(
      true,
    );
    expect(isDatabaseUnavailable(new Error("timeout exceeded when trying to connect"))).toBe(true);
  });

  it("leaves everything else alone: a host's refused SSH connection, a constraint, a plain bug", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.77.0.1:2222"), { code: "ECONNREFUSED" });
    expect(
      isDatabaseUnavailable(new HostUnreachableError("h1", "127.77.0.1", 2222, "ECONNREFUSED", { cause: refused })),
    ).toBe(false);
    expect(isDatabaseUnavailable(new HostConnectionLostError("h1", "connection lost"))).toBe(false);
    expect(isDatabaseUnavailable(pgError("23505", "duplicate key value violates unique constraint"))).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error("Unique constraint failed"), { code: "P2002" }))).toBe(false);
    expect(isDatabaseUnavailable(new TypeError("x is undefined"))).toBe(false);
    expect(isDatabaseUnavailable("a string")).toBe(false);
  });
});

describe("a run's lease, without the database", () => {
  const db = {} as Db;

  it("is lost once its local deadline passes without a renewal, and says so before any write", async () => {
    // Claimed a TTL ago: past the deadline (the TTL less the safety margin).
    const lease = new OperationLease(db, "op-1", 3n, "me", performance.now() - 15_000, { ttlMs: 15_000 });
    expect(lease.lost).toBe(true);
    expect(() => lease.check()).toThrow(LeaseLost);
    expect(lease.signal.aborted).toBe(true);
    await expect(lease.write(async () => "written")).rejects.toThrow(
      /lease \(token 3\) lost: not renewed before its expiry/,
    );
  });

  it("fences the host driver: a lost lease stops the next command before it reaches the host", async () => {
    const lease = new OperationLease(db, "op-2", 1n, "me", performance.now(), { ttlMs: 15_000 });
    const calls: string[] = [];
    const driver = {
      name: "driver",
      async destroy(vm: string) {
        calls.push(`destroy ${vm}`);
      },
    };
    const fenced = fencedDriver(driver, lease);
    expect(fenced.name).toBe("driver");
    await fenced.destroy("a");
    lease.lose("another oracle took the operation (its token changed)");
    expect(() => fenced.destroy("b")).toThrow(LeaseLost);
    expect(calls).toEqual(["destroy a"]);
  });

  it("is lost when the run stalls: no progress for stallAfterMs while nothing bounded is under way", async () => {
    // Claimed 5 s ago, nothing since: stalled (the TTL is long, so only the watchdog speaks).
    const lease = new OperationLease(db, "op-3", 2n, "me", performance.now() - 5000, {
      ttlMs: 60_000,
      stallAfterMs: 1000,
    });
    expect(lease.stalled).toBe(true);
    // A host command (or another bounded wait) under way is progress while it lasts, and when it ends.
    let finish = () => {};
    const command = lease.busy(new Promise<void>((resolve) => (finish = resolve)));
    expect(lease.stalled).toBe(false);
    finish();
    await command;
    expect(lease.stalled).toBe(false);
    expect(lease.lost).toBe(false);

    const stalled = new OperationLease(db, "op-4", 2n, "me", performance.now() - 5000, {
      ttlMs: 60_000,
      stallAfterMs: 1000,
    });
    // The renewal is where the watchdog looks: it renews nothing and the lease is lost.
    expect(await stalled.renew()).toBe(false);
    expect(stalled.lost).toBe(true);
    expect(stalled.signal.aborted).toBe(true);
    expect(() => stalled.check()).toThrow(/lease \(token 2\) lost: the run stalled: no progress for 5 s/);
  });

  it("counts the fenced driver's commands as the run's progress", async () => {
    const lease = new OperationLease(db, "op-5", 1n, "me", performance.now() - 5000, {
      ttlMs: 60_000,
      stallAfterMs: 1000,
    });
    let finish = () => {};
    const driver = { copy: () => new Promise<void>((resolve) => (finish = resolve)) };
    const copying = fencedDriver(driver, lease).copy();
    expect(lease.stalled).toBe(false);
    finish();
    await copying;
    expect(lease.stalled).toBe(false);
  });
});
