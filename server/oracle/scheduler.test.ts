import { describe, expect, it } from "vitest";
import { greatCircleKm } from "../latency/model";
import { choicesByNetwork, placeVm, type HostCandidate, type Origin, type PlacementRequest } from "./scheduler";

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
    hostingNetwork: "tokyo",
    lat: 35.7,
    lon: 139.7,
    linkMbps: 1000,
    vmSlots: 1,
    vmsPlaced: 0,
    freeDiskBytes: 100 * GB,
    bytesPresent: 0,
    ...over,
  };
}
const req: PlacementRequest = { vmBytes: 2 * GB, role: "PRODUCTION" };
const place = (slug: string, lat: number, lon: number, linkMbps = 1000) => ({
  hostingNetworkId: slug,
  hostingNetwork: slug,
  lat,
  lon,
  linkMbps,
});
const CITY = {
  amsterdam: place("amsterdam", 52.37, 4.9),
  ashburn: place("ashburn", 39.04, -77.49),
  newYork: place("new-york", 40.71, -74.01),
  bogota: place("bogota", 4.71, -74.07),
  buenosAires: place("buenos-aires", -34.6, -58.38),
  tokyo: place("tokyo", 35.68, 139.65),
  singapore: place("singapore", 1.35, 103.82),
  seoul: place("seoul", 37.57, 126.98),
};
/** A host in one of CITY's hosting networks. */
const at = (name: string, city: ReturnType<typeof place>, over: Partial<HostCandidate> = {}) =>
  host(name, { ...city, ...over });
/** Demand at one place, nothing running yet. */
const demandAt = (lat: number, lon: number) => ({
  cells: [{ lat, lon, requests: 100 }],
  replicas: [],
  windowMinutes: 60,
});

describe("placeVm", () => {
  it("keeps a booked match's host for that match's game server alone, naming the match", () => {
    const booking = {
      matchId: "m1",
      startsAt: new Date("2026-12-08T18:00:00Z"),
      endsAt: new Date("2026-12-08T19:00:00Z"),
    };
    const later = { ...booking, matchId: "m2", startsAt: new Date("2026-12-09T18:00:00Z") };
    const hosts = [host("booked", { reservedFor: [booking, later] }), host("other", { lat: -33.9, lon: 151.2 })];
    const anyone = placeVm(hosts, { ...req, demand: demandAt(35.7, 139.7) });
    expect(anyone.chosen?.name).toBe("other");
    expect(anyone.candidates.find((c) => c.name === "booked")?.dropped).toEqual({
      filter: "not-reserved",
      reason: "reserved for match m1 (2026-12-08T18:00:00.000Z to 2026-12-08T19:00:00.000Z)",
    });
    // Each of its matches may use it (the next one's server may come while the first's leaves).
    for (const forMatchId of ["m1", "m2"])
      expect(placeVm(hosts, { ...req, demand: demandAt(35.7, 139.7), forMatchId }).chosen?.name).toBe("booked");
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
    expect(Object.keys(d.candidates.find((c) => c.name === "ok")?.measures ?? {})).toEqual([
      "demandRttMs",
      "bytes",
      "transferSeconds",
      "from",
      "km",
      "mbps",
      "ownNetwork",
      "load",
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
    const origin: Origin = { ...place("tokyo", 35.7, 139.7), bytes: 2 * GB };
    const d = placeVm([host("a"), host("b", { bytesPresent: 2 * GB })], { ...req, origins: [origin] });
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

  it("prefers hosts near the demand, and keeps to a hosting network when asked", () => {
    const hosts = [host("tokyo"), host("paris", { lat: 48.9, lon: 2.35, hostingNetworkId: "paris" })];
    expect(placeVm(hosts, { ...req, demand: demandAt(50.1, 8.7) }).chosen?.name).toBe("paris");
    expect(placeVm(hosts, { ...req, demand: demandAt(37.6, 127) }).chosen?.name).toBe("tokyo");
    const pinned = placeVm(hosts, { ...req, demand: demandAt(50.1, 8.7), hostingNetworkId: "tokyo" });
    expect(pinned.chosen?.name).toBe("tokyo");
    expect(pinned.candidates.find((c) => c.name === "paris")?.dropped?.filter).toBe("hosting-network");
  });

  it("never picks an excluded host and breaks ties by name", () => {
    const d = placeVm([host("c"), host("b"), host("a")], { ...req, excludeHostIds: ["id-a"] });
    expect(d.chosen?.name).toBe("b");
    expect(d.summary).toBe(
      "b in tokyo; runner-up c in tokyo lost on name: equal on every measure; the first by name won.",
    );
  });
});

describe("greatCircleKm", () => {
  it("measures Paris–New York at about 5,840 km", () => {
    expect(greatCircleKm({ lat: 48.8566, lon: 2.3522 }, { lat: 40.7128, lon: -74.006 })).toBeCloseTo(5837, -1);
  });
});

describe("placement by demand (into production)", () => {
  const vmInAshburn: Origin = { ...CITY.ashburn, bytes: 2 * GB };
  const asia = {
    cells: [
      { lat: 35.5, lon: 139.5, requests: 600 },
      { lat: 37.5, lon: 126.5, requests: 300 },
      { lat: 1.5, lon: 103.5, requests: 100 },
    ],
    replicas: [],
    windowMinutes: 60,
  };
  const hosts = [
    at("amsterdam-prod-1", CITY.amsterdam),
    at("ashburn-prod-1", CITY.ashburn),
    at("singapore-prod-1", CITY.singapore),
    at("tokyo-prod-1", CITY.tokyo),
  ];

  it("with users in Asia, an Asian host wins over the alphabetically first European one, and the numbers say why", () => {
    const d = placeVm(hosts, { ...req, origins: [vmInAshburn], demand: asia });
    expect(d.chosen).toEqual({ hostId: "id-tokyo-prod-1", name: "tokyo-prod-1", hostingNetwork: "tokyo" });
    const n = d.numbers!;
    expect(n.rule).toBe("demand");
    expect(n.demand).toMatchObject({ windowMinutes: 60, cells: 3, requests: 1000, replicaNetworks: 0, beforeMs: null });
    expect(n.demand!.afterMs).toBeLessThan(60);
    expect(n.chosen).toMatchObject({ bytes: 2 * GB, from: "ashburn", ownNetwork: false });
    expect(n.chosen.transferSeconds).toBeGreaterThan((2 * GB * 8) / 1e9);
    expect(n.runnerUp).toMatchObject({ name: "singapore-prod-1", hostingNetwork: "singapore", lostOn: "demand-rtt" });
    expect(n.runnerUp!.measures.demandRttMs).toBeGreaterThan(n.demand!.afterMs! + 0.5);
    expect(n.runnerUp!.why).toMatch(/^demand-weighted RTT \d+\.\d ms against \d+\.\d ms$/);
    expect(d.summary).toMatch(
      /^tokyo-prod-1 in tokyo; demand-weighted RTT \(no replica running\) → \d+\.\d ms over 3 demand cells \(last 60 min\); 2\.0 GiB from ashburn \([\d,]+ km\) in ≈ .+; runner-up singapore-prod-1 in singapore lost on demand-rtt: /,
    );
  });

  it("counts what the running replicas already serve: a second replica goes where it lowers the RTT most", () => {
    const d = placeVm(hosts, { ...req, origins: [vmInAshburn], demand: { ...asia, replicas: [CITY.tokyo] } });
    // Tokyo already serves Tokyo and Seoul: Singapore's users gain most.
    expect(d.chosen?.name).toBe("singapore-prod-1");
    expect(d.numbers!.demand!.beforeMs).toBeGreaterThan(d.numbers!.demand!.afterMs!);
    expect(d.numbers!.demand!.replicaNetworks).toBe(1);
  });

  it("when the RTT ties (no demand, or nothing better), the VM goes where its files arrive soonest", () => {
    // The case: a VM pre-booted in the Ashburn Nest was activated into Amsterdam.
    const none = placeVm(hosts, { ...req, origins: [vmInAshburn], demand: { ...asia, cells: [] } });
    expect(none.chosen?.name).toBe("ashburn-prod-1");
    expect(none.numbers!.chosen).toMatchObject({ from: "ashburn", ownNetwork: true });
    expect(none.numbers!.runnerUp).toMatchObject({ lostOn: "transfer-time" });
    expect(none.summary).toContain("no demand recorded in the last 60 min");
    // Users in Tokyo only, served by a replica there: no host left lowers their RTT, so Ashburn again.
    const tokyoOnly = { ...asia, cells: asia.cells.slice(0, 1), replicas: [CITY.tokyo] };
    const served = placeVm(hosts.slice(0, 3), { ...req, origins: [vmInAshburn], demand: tokyoOnly });
    expect(served.chosen?.name).toBe("ashburn-prod-1");
    expect(served.numbers!.demand!.afterMs).toBe(served.numbers!.demand!.beforeMs);
  });

  it("then prefers the idle host, by the CPU the metric samples saw", () => {
    const d = placeVm(
      [at("tokyo-prod-1", CITY.tokyo, { cpuLoad: 0.7 }), at("tokyo-prod-2", CITY.tokyo, { cpuLoad: 0.1 })],
      { ...req, origins: [vmInAshburn], demand: asia },
    );
    expect(d.chosen?.name).toBe("tokyo-prod-2");
    expect(d.numbers!.runnerUp).toMatchObject({ name: "tokyo-prod-1", lostOn: "load", why: "load 70% against 10%" });
  });

  it("a faster link wins a tie on RTT", () => {
    const d = placeVm(
      [
        at("new-york-prod-1", CITY.newYork),
        at("new-york-b-prod-1", { ...CITY.newYork, hostingNetworkId: "nyb", hostingNetwork: "nyb", linkMbps: 10_000 }),
      ],
      { ...req, origins: [{ ...CITY.tokyo, bytes: 2 * GB }] },
    );
    // Far away one SSH window per round trip limits both alike: the faster link cannot help.
    expect(d.numbers!.runnerUp!.lostOn).toBe("name");
    const near = placeVm(
      [
        at("new-york-prod-1", CITY.newYork),
        at("new-york-b-prod-1", { ...CITY.newYork, hostingNetworkId: "nyb", hostingNetwork: "nyb", linkMbps: 10_000 }),
      ],
      { ...req, origins: [{ ...CITY.ashburn, linkMbps: 10_000, bytes: 2 * GB }] },
    );
    expect(near.chosen?.name).toBe("new-york-b-prod-1");
    expect(near.numbers!.runnerUp!.lostOn).toBe("transfer-time");
  });

  it("lists each hosting network's own choice, best first (what naming it would give)", () => {
    const d = placeVm([...hosts, at("tokyo-prod-2", CITY.tokyo, { cpuLoad: 0.9 })], {
      ...req,
      origins: [vmInAshburn],
      demand: asia,
    });
    expect(choicesByNetwork(d, "PRODUCTION").map((c) => c.name)).toEqual([
      "tokyo-prod-1",
      "singapore-prod-1",
      "amsterdam-prod-1",
      "ashburn-prod-1",
    ]);
    const pinned = placeVm(hosts, { ...req, origins: [vmInAshburn], demand: asia, hostingNetworkId: "amsterdam" });
    expect(pinned.chosen?.name).toBe("amsterdam-prod-1");
    expect(pinned.numbers!.chosen.demandRttMs).toBe(
      choicesByNetwork(d, "PRODUCTION").find((c) => c.hostingNetwork === "amsterdam")!.measures.demandRttMs,
    );
  });
});

describe("placement out of production (Nest, Loading Chambers)", () => {
  const nest = { ...req, role: "NEST" as const, origins: [{ ...CITY.ashburn, bytes: 2 * GB }] };
  const nestHost = (name: string, city: ReturnType<typeof place>, over: Partial<HostCandidate> = {}) =>
    at(name, city, { role: "NEST", vmSlots: 200, ...over });

  it("stays in the VM's own hosting network when its Nest has room, however busy, over an empty Nest far away", () => {
    const d = placeVm(
      [
        nestHost("buenos-aires-nest-1", CITY.buenosAires),
        nestHost("bogota-nest-1", CITY.bogota),
        nestHost("ashburn-nest-1", CITY.ashburn, { vmsPlaced: 150 }),
      ],
      nest,
    );
    expect(d.chosen?.name).toBe("ashburn-nest-1");
    expect(d.numbers).toMatchObject({ rule: "reach", demand: null });
    expect(d.numbers!.chosen).toMatchObject({ ownNetwork: true, km: 0, from: "ashburn" });
    expect(d.numbers!.runnerUp).toMatchObject({
      name: "bogota-nest-1",
      lostOn: "own-network",
      why: "outside the VM's own hosting network",
    });
    expect(d.summary).toMatch(
      /^ashburn-nest-1 in ashburn; 2\.0 GiB from ashburn \(same hosting network\) in ≈ 1\.7 s; runner-up bogota-nest-1/,
    );
  });

  it("else the Nest quickest to reach: the nearer, or the one behind the faster link", () => {
    const full = nestHost("ashburn-nest-1", CITY.ashburn, { vmsPlaced: 200 });
    const d = placeVm(
      [nestHost("buenos-aires-nest-1", CITY.buenosAires), nestHost("new-york-nest-1", CITY.newYork), full],
      nest,
    );
    expect(d.chosen?.name).toBe("new-york-nest-1");
    expect(d.candidates.find((c) => c.name === "ashburn-nest-1")?.dropped?.filter).toBe("capacity");
    expect(d.numbers!.runnerUp).toMatchObject({ name: "buenos-aires-nest-1", lostOn: "transfer-time" });
    // Same distance, a slower link: the other one is quicker to reach.
    const slow = placeVm(
      [
        nestHost("new-york-nest-1", CITY.newYork, { linkMbps: 100 }),
        nestHost("new-york-b-nest-1", { ...CITY.newYork, hostingNetworkId: "nyb", hostingNetwork: "nyb" }),
      ],
      nest,
    );
    expect(slow.chosen?.name).toBe("new-york-b-nest-1");
  });

  it("without an origin (a new VM) the emptiest host wins, as before", () => {
    const d = placeVm(
      [
        at("a-load-1", CITY.amsterdam, { role: "LOADING", vmSlots: 12, vmsPlaced: 6 }),
        at("b-load-1", CITY.tokyo, { role: "LOADING", vmSlots: 12 }),
      ],
      { vmBytes: GB, role: "LOADING" },
    );
    expect(d.chosen?.name).toBe("b-load-1");
    expect(d.numbers!.runnerUp?.lostOn).toBe("load");
  });
});
