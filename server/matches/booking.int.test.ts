import { TRPCError } from "@trpc/server";
import { inProcessCalls } from "../calls/kinds";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/db";
import { createCaller } from "../api/root";
import { createInnerContext } from "../api/trpc";
import type { Role } from "../auth/roles";
import type { Db } from "../db/client";
import type { HostDriver } from "../hosts/driver";
import { isOverlappingBooking } from "./book";
import { bookingRequest as request, bookingWorld as makeBookingWorld, startsAt } from "../../test/booking";

let db: Db;
let drop: () => Promise<void>;
beforeAll(async () => ({ db, drop } = await createTestDatabase()));
afterAll(() => drop());
// Every test builds its own hosts; retiring the previous ones keeps them out of its ranking.
afterEach(async () => {
  await db.host.updateMany({ where: { role: "PRODUCTION", retiredAt: null }, data: { retiredAt: new Date() } });
});

type User = { id: string; email: string; name: string; role: Role };
function callerFor(user: User, driver?: HostDriver) {
  return createCaller(
    createInnerContext({ db, user, oracle: driver ? inProcessCalls({ db, driver, edges: () => null }) : undefined }),
  );
}

async function trpcError(p: Promise<unknown>): Promise<TRPCError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCError);
  return err as TRPCError;
}

describe("match booking", () => {
  it("excludes busy, down, untrusted, draining and serving hosts with reasons, and ranks the rest by C_s", async () => {
    const w = await makeBookingWorld(db);
    const slot = request(w.game.id);
    await db.match.create({
      data: {
        serviceId: w.game.id,
        hostId: w.hosts.denverBusy.id,
        clanA: "X",
        clanB: "Y",
        startsAt: new Date(slot.startsAt.getTime() + 30 * 60_000),
        endsAt: new Date(slot.startsAt.getTime() + 120 * 60_000),
        bookedById: w.clanB.id,
      },
    });
    const preview = await callerFor(w.clanA).matches.preview(slot);

    const reason = (id: string) => preview.excluded.find((e) => e.hostId === id)?.reason;
    expect(reason(w.hosts.denverBusy.id)).toMatch(/busy: booked for another match in this slot/);
    expect(reason(w.hosts.chicagoDown.id)).toMatch(/down/);
    expect(reason(w.hosts.chicagoUntrusted.id)).toMatch(/untrusted: its SSH host key changed/);
    expect(reason(w.hosts.dallasDraining.id)).toMatch(/draining/);
    expect(reason(w.hosts.chicagoServing.id)).toMatch(/runs production VM map-/);
    expect(reason(w.hosts.sydney.id)).toMatch(/exceeds the 180 ms cap/);

    // The two free hosts in the middle of the country remain, fairest first (which of them wins is the latency model's call).
    expect(preview.candidates.map((c) => c.hostName).sort()).toEqual(
      [w.hosts.denverFree.name, w.hosts.dallasFree.name].sort(),
    );
    expect(preview.recommended?.hostName).toBe(preview.candidates[0]!.hostName);
    const [best, second] = preview.candidates;
    expect(best!.closeness).toBeLessThanOrEqual(second!.closeness);
    expect(best!.rttMs).toHaveLength(4);
    expect(best!.maxRtt).toBe(Math.max(...best!.rttMs));
    expect(preview.players.find((p) => p.name === "red-ny")).toMatchObject({ ip: "12.14.0.10" });
    expect(preview.players.find((p) => p.name === "red-boston")).toMatchObject({ ip: null, lat: 42.36 });
  });

  it("excludes every host, saying why, when no VM of the game waits in a Nest", async () => {
    const w = await makeBookingWorld(db);
    await db.vm.deleteMany({ where: { serviceId: w.game.id } });
    const preview = await callerFor(w.clanA).matches.preview(request(w.game.id));
    expect(preview.recommended).toBeNull();
    expect(preview.excluded.find((e) => e.hostId === w.hosts.denverFree.id)?.reason).toMatch(
      /the game's VM image is in no Hibernation Nest/,
    );
  });

  it("lets exactly one of two concurrent bookings of a host win; the other is told the next best server", async () => {
    const w = await makeBookingWorld(db);
    const slot = request(w.game.id);
    const overlapping = { ...slot, startsAt: new Date(slot.startsAt.getTime() + 30 * 60_000), clanA: "Green Clan" };
    const results = await Promise.allSettled([
      callerFor(w.clanA).matches.book({ ...slot, hostId: w.hosts.denverFree.id }),
      callerFor(w.clanB).matches.book({ ...overlapping, hostId: w.hosts.denverFree.id }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const loser = results.find((r) => r.status === "rejected")?.reason as TRPCError;
    expect(loser.code).toBe("CONFLICT");
    expect(loser.message).toContain(`${w.hosts.denverFree.name} (Denver) is already booked for an overlapping time.`);
    // The next best is the fairest server still free for that slot.
    const next = (await callerFor(w.clanB).matches.preview(overlapping)).recommended!;
    expect(loser.message).toContain(`Next best server: ${next.hostName} (${next.city})`);

    const booked = await db.match.findMany({ where: { hostId: w.hosts.denverFree.id }, include: { players: true } });
    expect(booked).toHaveLength(1);
    expect(booked[0]!.status).toBe("SCHEDULED");
    expect(booked[0]!.players).toHaveLength(4);
    expect(booked[0]!.players.every((p) => (p.rttMs ?? 0) > 0)).toBe(true);
    expect(booked[0]!.placement).toMatchObject({
      objective: "closeness",
      maxRttMs: 180,
      chosen: { hostName: w.hosts.denverFree.name },
    });
    expect(await db.auditEvent.count({ where: { entityId: booked[0]!.id, action: "match.book" } })).toBe(1);
  });

  it("recognises the database's refusal of an overlapping booking", async () => {
    const w = await makeBookingWorld(db);
    const slot = {
      serviceId: w.game.id,
      hostId: w.hosts.dallasFree.id,
      clanA: "X",
      clanB: "Y",
      bookedById: w.clanA.id,
      startsAt: startsAt(),
      endsAt: new Date(startsAt().getTime() + 3600_000),
    };
    await db.match.create({ data: slot });
    const err = await db.match
      .create({ data: { ...slot, startsAt: new Date(slot.startsAt.getTime() + 1800_000) } })
      .catch((e: unknown) => e);
    expect(isOverlappingBooking(err)).toBe(true);
    expect(isOverlappingBooking(new Error("something else"))).toBe(false);
  });

  it("refuses a host that is no longer free, naming the next best, and books that one", async () => {
    const w = await makeBookingWorld(db);
    const slot = request(w.game.id);
    await callerFor(w.clanB).matches.book({ ...slot, clanA: "Green Clan", hostId: w.hosts.denverFree.id });
    const err = await trpcError(callerFor(w.clanA).matches.book({ ...slot, hostId: w.hosts.denverFree.id }));
    expect(err.code).toBe("CONFLICT");
    expect(err.message).toContain(`${w.hosts.denverFree.name} (Denver) is already booked for an overlapping time.`);
    const preview = await callerFor(w.clanA).matches.preview(slot);
    expect(err.message).toContain(`Next best server: ${preview.recommended!.hostName}`);
    const match = await callerFor(w.clanA).matches.book({ ...slot, hostId: preview.recommended!.hostId });
    expect(match.host.name).toBe(preview.recommended!.hostName);

    const down = await trpcError(
      callerFor(w.clanA).matches.book({
        ...slot,
        startsAt: new Date(slot.startsAt.getTime() + 86_400_000),
        hostId: w.hosts.chicagoDown.id,
      }),
    );
    expect(down.code).toBe("CONFLICT");
    expect(down.message).toMatch(
      /chicago-1-\d+ \(Chicago\) cannot host this match any more: down \(missed heartbeats\)\. Next best server: /,
    );
  });

  it("names the field and the reason for bad input", async () => {
    const w = await makeBookingWorld(db);
    const a = callerFor(w.clanA);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ durationMinutes: 5 }, /durationMinutes[\s\S]*at least 15 minutes/],
      [{ durationMinutes: 600 }, /durationMinutes[\s\S]*at most 480 minutes/],
      [{ maxRttMs: 5 }, /maxRttMs[\s\S]*Max RTT must be at least 10 ms/],
      [{ startsAt: new Date(Date.now() - 60_000) }, /startsAt[\s\S]*in the future/],
      [{ startsAt: new Date(Date.now() + 200 * 86_400_000) }, /startsAt[\s\S]*at most 90 days ahead/],
      [{ clanB: "red clan" }, /clanB[\s\S]*different names/],
      [{ clanA: " " }, /clanA[\s\S]*Clan A's name is required/],
      [{ players: [{ name: "solo", team: "A", ip: "12.14.0.10" }] }, /players[\s\S]*at least 2 players/],
      [
        {
          players: [
            { name: "a", team: "A", ip: "12.14.0.10" },
            { name: "b", team: "A", ip: "12.42.185.10" },
          ],
        },
        /players[\s\S]*Blue Clan needs at least one player/,
      ],
      [
        {
          players: [
            { name: "a", team: "A", ip: "12.14.0.10" },
            { name: "A", team: "B", ip: "12.42.185.10" },
          ],
        },
        /"name"[\s\S]*Player name .*A.* is used twice/,
      ],
      [
        {
          players: [
            { name: "a", team: "A", ip: "1.2.3" },
            { name: "b", team: "B", ip: "12.42.185.10" },
          ],
        },
        /ip[\s\S]*Not an IPv4 or IPv6 address/,
      ],
    ];
    for (const [overrides, message] of cases) {
      const err = await trpcError(a.matches.preview(request(w.game.id, overrides)));
      expect(err.code).toBe("BAD_REQUEST");
      expect(err.message).toMatch(message);
    }
    const privateIp = await trpcError(
      a.matches.preview(
        request(w.game.id, {
          players: [
            { name: "lan-party", team: "A", ip: "192.168.1.20" },
            { name: "b", team: "B", ip: "12.42.185.10" },
          ],
        }),
      ),
    );
    expect(privateIp.code).toBe("BAD_REQUEST");
    expect(privateIp.message).toMatch(/Player "lan-party": 192.168.1.20 is a private, reserved or unknown address/);
    const wrongService = await trpcError(a.matches.preview(request(w.service.id)));
    expect(wrongService.message).toMatch(/is not a game server/);
  });

  it("keeps bookings between their clan admin and administrators", async () => {
    const w = await makeBookingWorld(db);
    const match = await callerFor(w.clanA).matches.book({ ...request(w.game.id), hostId: w.hosts.dallasFree.id });
    const b = callerFor(w.clanB);
    expect((await b.matches.list()).map((m) => m.id)).not.toContain(match.id);
    expect((await trpcError(b.matches.cancel({ matchId: match.id }))).code).toBe("NOT_FOUND");
    expect((await callerFor(w.clanA).matches.list()).map((m) => m.id)).toContain(match.id);
    expect((await trpcError(callerFor(w.manager).matches.preview(request(w.game.id)))).code).toBe("FORBIDDEN");
    expect(
      (await trpcError(callerFor(w.operator).matches.book({ ...request(w.game.id), hostId: w.hosts.denverFree.id })))
        .code,
    ).toBe("FORBIDDEN");
    expect((await callerFor(w.admin).matches.cancel({ matchId: match.id })).status).toBe("CANCELLED");
  });

  it("refines the top candidates with pings from those hosts; map-placed players keep the model value", async () => {
    const w = await makeBookingWorld(db);
    const pinged: string[] = [];
    const driver = {
      ping: async (host: { name: string }, address: string) => {
        pinged.push(`${host.name}→${address}`);
        if (address === "12.42.185.10" && host.name === w.hosts.denverFree.name) throw new Error("connection reset");
        return { transmitted: 3, received: 3, minMs: 20, avgMs: 28, maxMs: 40 };
      },
    } as unknown as HostDriver;
    const a = callerFor(w.clanA, driver);
    const preview = await a.matches.preview(request(w.game.id));
    const top3 = preview.candidates.slice(0, 3).map((c) => c.hostName);
    expect(top3).toContain(w.hosts.dallasFree.name);
    const measured = await a.matches.measurePings({ ...request(w.game.id), candidates: 3 });
    // Only the players with an IP are pinged, from each of the top three hosts.
    expect(pinged.sort()).toEqual(top3.flatMap((h) => [`${h}→12.14.0.10`, `${h}→12.42.185.10`]).sort());
    const dallas = measured.candidates.find((c) => c.hostId === w.hosts.dallasFree.id)!;
    // Median of three probes from min/avg/max: 3·28 − 20 − 40 = 24.
    expect(dallas.cells[0]).toEqual({ rttMs: 24, source: "measured" });
    expect(dallas.cells[1]).toMatchObject({ source: "model", why: "placed on the map: no IP to ping" });
    // Each measured value beside the model's (the preview's), which the ranking no longer uses.
    const modelled = preview.candidates.find((c) => c.hostId === dallas.hostId)!.rttMs;
    expect(dallas.modelledMs).toEqual(modelled);
    expect(dallas.measuredMs).toEqual([24, null, 24, null]);
    expect(dallas.rttMs).toEqual([24, modelled[1], 24, modelled[3]]);
    const denver = measured.candidates.find((c) => c.hostId === w.hosts.denverFree.id)!;
    expect(denver.cells[2]).toMatchObject({ source: "model", why: "ping failed: connection reset" });
    expect(measured.candidates).toHaveLength(3);
  });
});

describe("a booked host taken out of service", () => {
  it("drain asks first, naming the booking; asked to, it moves the booking to the next fairest server for the same players, audited", async () => {
    const w = await makeBookingWorld(db);
    const slot = request(w.game.id);
    const preview = await callerFor(w.clanA).matches.preview(slot);
    const [first, second] = preview.candidates;
    const booked = await callerFor(w.clanA).matches.book({ ...slot, hostId: first!.hostId });
    const op = callerFor(w.operator);

    const asked = await trpcError(op.hosts.setDraining({ hostId: first!.hostId, draining: true }));
    expect(asked.code).toBe("CONFLICT");
    expect(asked.message).toBe(
      `${first!.hostName} is booked for a match: Red Clan vs Blue Clan at ${slot.startsAt.toISOString()} (match ${booked.id}). Move it to the next fairest server for the same players, or cancel it first.`,
    );
    // Nothing changed.
    expect((await db.host.findUniqueOrThrow({ where: { id: first!.hostId } })).draining).toBe(false);
    expect((await db.match.findUniqueOrThrow({ where: { id: booked.id } })).hostId).toBe(first!.hostId);

    const drained = await op.hosts.setDraining({ hostId: first!.hostId, draining: true, moveBookings: true });
    expect(drained).toMatchObject({ draining: true, movedBookings: [{ matchId: booked.id, to: second!.hostName }] });
    const moved = await db.match.findUniqueOrThrow({ where: { id: booked.id }, include: { players: true } });
    expect(moved).toMatchObject({ hostId: second!.hostId, status: "SCHEDULED" });
    expect((moved.placement as { chosen: { hostName: string } }).chosen.hostName).toBe(second!.hostName);
    expect(await db.auditEvent.findFirst({ where: { entityId: booked.id, action: "match.move" } })).toMatchObject({
      before: { host: first!.hostName },
      after: { host: second!.hostName },
    });
  });

  it("retire moves a scheduled booking too, and refuses with the reason when no other server can host it", async () => {
    const w = await makeBookingWorld(db);
    const slot = request(w.game.id);
    const preview = await callerFor(w.clanA).matches.preview(slot);
    const eligible = preview.candidates.map((c) => c.hostId);
    const booked = await callerFor(w.clanA).matches.book({ ...slot, hostId: eligible[0]! });
    const op = callerFor(w.operator);
    // Every other eligible server out of service: nowhere to go.
    await db.host.updateMany({ where: { id: { in: eligible.slice(1) } }, data: { draining: true } });
    const stuck = await trpcError(op.hosts.retire({ hostId: eligible[0]!, moveBookings: true }));
    expect(stuck.code).toBe("CONFLICT");
    expect(stuck.message).toMatch(
      /^No other server can host Red Clan vs Blue Clan at .* \(match \w+\) \(no other server is free and fair enough in its slot\): cancel it first/,
    );
    expect((await db.host.findUniqueOrThrow({ where: { id: eligible[0]! } })).retiredAt).toBeNull();

    await db.host.update({ where: { id: eligible[1]! }, data: { draining: false } });
    const retired = await op.hosts.retire({ hostId: eligible[0]!, moveBookings: true });
    expect(retired.retiredAt).not.toBeNull();
    expect((await db.match.findUniqueOrThrow({ where: { id: booked.id } })).hostId).toBe(eligible[1]);
  });
});
