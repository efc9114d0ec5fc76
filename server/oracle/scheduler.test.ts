import { describe, expect, it } from "vitest";
import { greatCircleKm } from "../latency/model";
import { placeVm, type HostCandidate, type PlacementRequest } from "./scheduler";

const GB = 1024 ** 3;
function host(name: string, over: Partial<HostCandidate> = {}): HostCandidate {
  return {
    id: `id-${name}`,
    name,
    role: "PRODUCTION",
    status: "UP",
    hostKeyTrust: "TRUSTED",
    draining: false,
    retired: false,
    hostingNetworkId: "tokyo",
    lat: 35.7,
    lon: 139.7,
    vmSlots: 1,
    vmsPlaced: 0,
    freeDiskBytes: 100 * GB,
    bytesPresent: 0,
    ...over,
  };
}
const req: PlacementRequest = { vmBytes: 2 * GB, role: "PRODUCTION" };

describe("placeVm", () => {
  it("keeps a booked match's host for that match's game server alone, naming the match", () => {
    const booking = {
      matchId: "m1",
      startsAt: new Date("2026-12-08T18:00:00Z"),
      endsAt: new Date("2026-12-08T19:00:00Z"),
    };
    const later = { ...booking, matchId: "m2", startsAt: new Date("2026-12-09T18:00:00Z") };
    const hosts = [host("booked", { reservedFor: [booking, later] }), host("other", { lat: -33.9, lon: 151.2 })];
    const anyone = placeVm(hosts, { ...req, demand: { lat: 35.7, lon: 139.7 } });
    expect(anyone.chosen?.name).toBe("other");
    expect(anyone.candidates.find((c) => c.name === "booked")?.dropped).toEqual({
      filter: "not-reserved",
      reason: "reserved for match m1 (2026-12-08T18:00:00.000Z to 2026-12-08T19:00:00.000Z)",
    });
    // Each of its matches may use it (the next one's server may come while the first's leaves).
    for (const forMatchId of ["m1", "m2"])
      expect(placeVm(hosts, { ...req, demand: { lat: 35.7, lon: 139.7 }, forMatchId }).chosen?.name).toBe("booked");
    expect(placeVm([host("free")], { ...req, forMatchId: "m1" }).chosen?.name).toBe("free");
  });

  it("drops each unfit host by the first filter it fails, with the reason", () => {
    const d = placeVm(
      [
        host("nest", { role: "NEST" }),
        host("down", { status: "DOWN" }),
        host("untrusted", { hostKeyTrust: "MISMATCH" }),
        host("draining", { draining: true }),
        host("retired", { retired: true }),
        host("busy", { vmsPlaced: 1 }),
        host("small", { freeDiskBytes: GB }),
        host("ok"),
      ],
      req,
    );
    expect(d.chosen?.name).toBe("ok");
    const dropped = Object.fromEntries(d.candidates.map((c) => [c.name, c.dropped?.filter]));
    expect(dropped).toEqual({
      nest: "role",
      down: "up",
      untrusted: "trusted-key",
      draining: "in-service",
      retired: "in-service",
      busy: "capacity",
      small: "capacity",
      ok: undefined,
    });
    expect(d.candidates.find((c) => c.name === "small")?.dropped?.reason).toBe(`${GB} bytes free, ${2 * GB} needed`);
    expect(d.candidates.find((c) => c.name === "ok")?.scores?.map((s) => s.scorer)).toEqual([
      "bytes-to-transfer",
      "load",
      "distance-to-demand",
    ]);
  });

  it("places a VM only where its owner's segment has a bridge; a host not probed for bridges is not judged", () => {
    const onSegment3 = { ...req, segment: 3 };
    const d = placeVm(
      [
        host("other", { segments: [1, 2] }),
        host("none", { segments: [] }),
        host("unknown", { segments: null }),
        host("has", { segments: [1, 3] }),
      ],
      onSegment3,
    );
    const dropped = Object.fromEntries(d.candidates.map((c) => [c.name, c.dropped?.reason]));
    expect(dropped).toEqual({
      other: "no bridge vmxs3 for the owner's segment 3 (has vmxs1, vmxs2)",
      none: "no bridge vmxs3 for the owner's segment 3 (has none)",
      unknown: undefined,
      has: undefined,
    });
    expect(placeVm([host("other", { segments: [1, 2] })], onSegment3).summary).toBe(
      "No production host fits: 1 hosts considered, dropped 1 by segment.",
    );
    // Without a segment (no owner known) nothing is filtered on it.
    expect(placeVm([host("other", { segments: [1, 2] })], req).chosen?.name).toBe("other");
  });

  it("holds a production host to one VM whatever its slot count says", () => {
    const d = placeVm([host("two-slots", { vmSlots: 2, vmsPlaced: 1 })], req);
    expect(d.chosen).toBeNull();
    expect(d.candidates[0]?.dropped).toEqual({ filter: "capacity", reason: "no free slot (1 of 1 used)" });
    expect(d.summary).toBe("No production host fits: 1 hosts considered, dropped 1 by capacity.");
  });

  it("prefers the host that already holds the VM's files", () => {
    const d = placeVm([host("a"), host("b", { bytesPresent: 2 * GB })], req);
    expect(d.chosen?.name).toBe("b");
    // Holding the files also means less free disk is needed.
    expect(placeVm([host("b", { bytesPresent: 2 * GB, freeDiskBytes: 0 })], req).chosen?.name).toBe("b");
  });

  it("prefers idle hosts, by CPU and by slot use", () => {
    expect(placeVm([host("hot", { cpuLoad: 0.8 }), host("cool", { cpuLoad: 0.1 })], req).chosen?.name).toBe("cool");
    const nest = { ...req, role: "NEST" as const };
    expect(
      placeVm(
        [host("full", { role: "NEST", vmSlots: 10, vmsPlaced: 9 }), host("empty", { role: "NEST", vmSlots: 10 })],
        nest,
      ).chosen?.name,
    ).toBe("empty");
  });

  it("prefers hosts near the demand point, and keeps to a hosting network when asked", () => {
    const hosts = [host("tokyo"), host("paris", { lat: 48.9, lon: 2.35, hostingNetworkId: "paris" })];
    expect(placeVm(hosts, { ...req, demand: { lat: 50.1, lon: 8.7 } }).chosen?.name).toBe("paris");
    expect(placeVm(hosts, { ...req, demand: { lat: 37.6, lon: 127 } }).chosen?.name).toBe("tokyo");
    const pinned = placeVm(hosts, { ...req, demand: { lat: 50.1, lon: 8.7 }, hostingNetworkId: "tokyo" });
    expect(pinned.chosen?.name).toBe("tokyo");
    expect(pinned.candidates.find((c) => c.name === "paris")?.dropped?.filter).toBe("hosting-network");
  });

  it("never picks an excluded host and breaks ties by name", () => {
    const d = placeVm([host("c"), host("b"), host("a")], { ...req, excludeHostIds: ["id-a"] });
    expect(d.chosen?.name).toBe("b");
    expect(d.summary).toMatch(/^b scored 2\.000, ahead of c \(2\.000\)\.$/);
  });
});

describe("greatCircleKm", () => {
  it("measures Paris–New York at about 5,840 km", () => {
    expect(greatCircleKm({ lat: 48.8566, lon: 2.3522 }, { lat: 40.7128, lon: -74.006 })).toBeCloseTo(5837, -1);
  });
});
