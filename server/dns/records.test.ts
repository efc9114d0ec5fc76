import { describe, expect, it } from "vitest";
import type { Db } from "../db/client";
import { zoneRecords } from "./records";

/** A database that serves one name with one replica, until `down` is set. */
function fakeDb() {
  const state = { down: false, reads: 0 };
  const fail = () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:5432"));
  const db = {
    service: {
      findMany: () => {
        state.reads += 1;
        return state.down ? fail() : Promise.resolve([{ id: "s1", dnsName: "map.vmatrix.test" }]);
      },
    },
    vm: {
      findMany: () =>
        state.down
          ? fail()
          : Promise.resolve([
              {
                name: "map-001",
                host: { name: "tokyo-prod-1", hostingNetwork: { slug: "tokyo", city: "Tokyo", lat: 35.7, lon: 139.7 } },
                bindings: [{ publicAddress: "198.51.100.7" }],
              },
            ]),
    },
    // No live match.
    match: { findMany: () => (state.down ? fail() : Promise.resolve([])) },
  };
  return { db: db as unknown as Db, state };
}

describe("the DNS server's view of the database", () => {
  it("answers from the last good view while the database cannot be read, up to the staleness bound", async () => {
    let clock = 0;
    const { db, state } = fakeDb();
    const told: number[] = [];
    const names = zoneRecords(db, "vmatrix.test", {
      maxAgeMs: 2_000,
      maxStaleMs: 60_000,
      now: () => clock,
      onStale: (_err, ageMs) => told.push(ageMs),
    });
    expect((await names()).get("map.vmatrix.test")?.[0]?.address).toBe("198.51.100.7");

    state.down = true;
    clock = 5_000;
    expect((await names()).get("map.vmatrix.test")?.[0]?.vm).toBe("map-001");
    expect(told).toEqual([5_000]);
    // A failed read is not repeated at every query: the next try waits maxAgeMs.
    const reads = state.reads;
    clock = 6_000;
    await names();
    expect(state.reads).toBe(reads);

    clock = 61_000;
    await expect(names()).rejects.toThrow(/ECONNREFUSED/);

    // The database is back: fresh reads again.
    state.down = false;
    clock = 70_000;
    expect((await names()).get("map.vmatrix.test")).toHaveLength(1);
  });

  it("has nothing to serve when the database was never read", async () => {
    const { db, state } = fakeDb();
    state.down = true;
    await expect(zoneRecords(db, "vmatrix.test")()).rejects.toThrow(/ECONNREFUSED/);
  });
});
