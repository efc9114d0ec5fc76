import { TRPCError } from "@trpc/server";
import { inProcessCalls } from "../calls/kinds";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/db";
import { createCaller } from "../api/root";
import { createInnerContext } from "../api/trpc";
import type { Role } from "../auth/roles";
import type { Db } from "../db/client";
import type { HostDriver } from "../hosts/driver";
import { bookingRequest, bookingWorld } from "../../test/booking";
import { readPlacementRecord } from "./placement-record";

let db: Db;
let drop: () => Promise<void>;
beforeAll(async () => ({ db, drop } = await createTestDatabase()));
afterAll(() => drop());
afterEach(async () => {
  await db.host.updateMany({ where: { role: "PRODUCTION", retiredAt: null }, data: { retiredAt: new Date() } });
});

type User = { id: string; email: string; name: string; role: Role };

/** Pings answer 20/28/40 ms (median 24) except from `failing` to LA; map-placed players have no IP. */
function fakePings(failing: string | null): HostDriver {
  return {
    ping: async (host: { name: string }, address: string) => {
      if (host.name === failing && address === "12.42.185.10") throw new Error("connection reset");
      return { transmitted: 3, received: 3, minMs: 20, avgMs: 28, maxMs: 40 };
    },
  } as unknown as HostDriver;
}

async function refusal(p: Promise<unknown>): Promise<TRPCError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCError);
  return err as TRPCError;
}

describe("booking after measured pings", () => {
  it("stores which of the booked host's RTTs were measured and which modelled, and the facts on the measured values", async () => {
    const w = await bookingWorld(db);
    const caller = (user: User) =>
      createCaller(
        createInnerContext({
          db,
          user,
          oracle: inProcessCalls({ db: db, driver: fakePings(w.hosts.dallasFree.name), edges: () => null }),
        }),
      );
    const slot = bookingRequest(w.game.id);
    const measured = await caller(w.clanA).matches.measurePings({ ...slot, candidates: 3 });
    const dallas = measured.candidates.find((c) => c.hostId === w.hosts.dallasFree.id);
    expect(dallas).toBeDefined();

    const match = await caller(w.clanA).matches.book({
      ...slot,
      hostId: w.hosts.dallasFree.id,
      measurement: measured.measurement,
    });
    const stored = await db.match.findUniqueOrThrow({ where: { id: match.id }, include: { players: true } });
    const record = readPlacementRecord(stored.placement);
    expect(record).not.toBeNull();
    // red-ny answered (24 ms median); blue-la's ping failed; the other two were placed on the map.
    expect(record!.rttSource).toBe("mixed");
    expect(record!.pings!.hosts.map((h) => h.hostId).sort()).toEqual(measured.candidates.map((c) => c.hostId).sort());
    expect(record!.pings!.chosen).toEqual([
      { player: "red-ny", rttMs: 24, source: "measured" },
      {
        player: "red-boston",
        rttMs: expect.closeTo(dallas!.cells[1]!.rttMs, 9),
        source: "model",
        why: "placed on the map: no IP to ping",
      },
      {
        player: "blue-la",
        rttMs: expect.closeTo(dallas!.cells[2]!.rttMs, 9),
        source: "model",
        why: "ping failed: connection reset",
      },
      {
        player: "blue-seattle",
        rttMs: expect.closeTo(dallas!.cells[3]!.rttMs, 9),
        source: "model",
        why: "placed on the map: no IP to ping",
      },
    ]);
    // The booked host's facts and each player's stored RTT are the measured ones, as the admin saw them.
    expect(record!.chosen).toMatchObject({
      hostId: w.hosts.dallasFree.id,
      // Recomputed at booking: equal to the last bits of a double.
      closeness: expect.closeTo(dallas!.closeness, 9),
      maxRtt: expect.closeTo(dallas!.maxRtt, 9),
      rttMs: dallas!.rttMs.map((v) => expect.closeTo(v, 9) as unknown),
    });
    expect(stored.players.find((p) => p.name === "red-ny")!.rttMs).toBe(24);

    // The bookings list returns the record typed, for the page to show.
    const listed = (await caller(w.clanA).matches.list()).find((m) => m.id === match.id);
    expect(listed?.placement?.pings?.chosen?.[0]).toEqual({ player: "red-ny", rttMs: 24, source: "measured" });
  });

  it("records the model as the basis without pings, or when the booked host was not among those pinged", async () => {
    const w = await bookingWorld(db);
    const a = createCaller(
      createInnerContext({
        db,
        user: w.clanA,
        oracle: inProcessCalls({ db: db, driver: fakePings(null), edges: () => null }),
      }),
    );
    const slot = bookingRequest(w.game.id);
    const plain = await a.matches.book({ ...slot, hostId: w.hosts.denverFree.id });
    const plainRecord = readPlacementRecord((await db.match.findUniqueOrThrow({ where: { id: plain.id } })).placement);
    expect(plainRecord).toMatchObject({ rttSource: "model", pings: null });

    const later = { ...slot, startsAt: new Date(slot.startsAt.getTime() + 86_400_000) };
    const measured = await a.matches.measurePings({ ...later, candidates: 1 });
    const unpinged = (await a.matches.preview(later)).candidates.find(
      (c) => !measured.candidates.some((m) => m.hostId === c.hostId),
    )!;
    const other = await a.matches.book({ ...later, hostId: unpinged.hostId, measurement: measured.measurement });
    const record = readPlacementRecord((await db.match.findUniqueOrThrow({ where: { id: other.id } })).placement);
    expect(record!.rttSource).toBe("model");
    expect(record!.pings).toMatchObject({ chosen: null, hosts: [{ hostId: measured.candidates[0]!.hostId }] });
  });

  it("refuses a measurement that was altered, is another admin's or is for other players, naming the field", async () => {
    const w = await bookingWorld(db);
    const as = (user: User) =>
      createCaller(
        createInnerContext({
          db,
          user,
          oracle: inProcessCalls({ db: db, driver: fakePings(null), edges: () => null }),
        }),
      );
    const slot = bookingRequest(w.game.id);
    const { measurement } = await as(w.clanA).matches.measurePings({ ...slot, candidates: 2 });
    const [body, signature] = measurement.split(".");
    const forged = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(body!, "base64url").toString()),
        measuredAt: new Date().toISOString(),
      }),
    ).toString("base64url");
    const cases: [User, Record<string, unknown>, string, RegExp][] = [
      [w.clanA, slot, `${forged}.${signature}`, /not one this server issued/],
      [w.clanB, slot, measurement, /measured by another admin/],
      [
        w.clanA,
        { ...slot, players: slot.players.map((p, i) => (i === 0 ? { ...p, name: "red-renamed" } : p)) },
        measurement,
        /players changed/,
      ],
    ];
    for (const [user, request, token, message] of cases) {
      const err = await refusal(
        as(user).matches.book({ ...(request as typeof slot), hostId: w.hosts.denverFree.id, measurement: token }),
      );
      expect(err.code).toBe("BAD_REQUEST");
      expect(err.message).toMatch(message);
      expect(err.message).toMatch(/^Measured pings/);
    }
    expect(await db.match.count({ where: { hostId: w.hosts.denverFree.id } })).toBe(0);
  });
});
