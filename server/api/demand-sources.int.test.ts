import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/db";
import { makeWorld } from "../../test/fixtures";
import type { Db } from "../db/client";
import { ingestSamples } from "../demand/ingest";
import { createCaller } from "./root";
import { createInnerContext } from "./trpc";

// The map's heat keeps each sample's source: demand.heat shows every source summed per
// cell, or only the sources asked for.
let db: Db;
let drop: () => Promise<void>;
beforeAll(async () => ({ db, drop } = await createTestDatabase()));
afterAll(() => drop());

describe("demand.heat by source", () => {
  it("sums a cell's sources, and filters by the sources asked for", async () => {
    const w = await makeWorld(db);
    const api = createCaller(createInnerContext({ db, user: w.operator }));
    const at = new Date();
    const sample = (lat: number, lon: number, count: number) => [{ serviceId: w.service.id, at, lat, lon, count }];
    await ingestSamples(db, sample(51.5, -0.1, 3), "DNS"); // London
    await ingestSamples(db, sample(51.5, -0.1, 10), "SIM");
    await ingestSamples(db, sample(35.7, 139.7, 7), "INGEST"); // Tokyo
    const cells = async (sources?: ("DNS" | "EDGE" | "INGEST" | "SIM")[]) =>
      (await api.demand.heat({ serviceId: w.service.id, sources })).buckets.flatMap((b) => b.cells);

    expect(await cells()).toEqual([
      { lat: 51.5, lon: -0.5, count: 13 },
      { lat: 35.5, lon: 139.5, count: 7 },
    ]);
    expect(await cells(["DNS"])).toEqual([{ lat: 51.5, lon: -0.5, count: 3 }]);
    expect(await cells(["DNS", "INGEST"])).toEqual([
      { lat: 35.5, lon: 139.5, count: 7 },
      { lat: 51.5, lon: -0.5, count: 3 },
    ]);
    expect(await cells(["EDGE"])).toEqual([]);
    await expect(api.demand.heat({ serviceId: w.service.id, sources: [] })).rejects.toThrow(/at least one source/);
    await expect(api.demand.heat({ serviceId: w.service.id, sources: ["NOPE" as "DNS"] })).rejects.toThrow();
  });
});
