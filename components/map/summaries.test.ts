import { describe, expect, it } from "vitest";
import type { MapNetwork } from "@/server/map/world-map";
import { emptyReplicaTarget } from "./replica-target-values";
import { countByState, serviceRows, serviceTotals, targetsPerService } from "./summaries";

const network = (id: string, city: string, state: MapNetwork["state"] = "free"): MapNetwork => ({
  id,
  slug: id,
  city,
  country: "XX",
  lat: 0,
  lon: 0,
  linkMbps: 1000,
  hosts: 1,
  up: 1,
  down: 0,
  production: 1,
  busy: 0,
  replicas: 0,
  state,
});

describe("map summaries", () => {
  it("counts networks per state", () => {
    const counts = countByState([network("a", "A", "down"), network("b", "B", "free"), network("c", "C", "down")]);
    expect(counts).toEqual({ free: 1, busy: 0, full: 0, degraded: 0, down: 2, unknown: 0 });
  });

  it("sums a service over its replica targets", () => {
    const blocked = { ...emptyReplicaTarget("b"), desired: 2, blockedReason: "no free production host" };
    const totals = serviceTotals([
      { ...emptyReplicaTarget("a"), desired: 1, running: 2, deactivating: 1 },
      blocked,
      emptyReplicaTarget("c"),
    ]);
    expect(totals).toEqual({ running: 2, desired: 3, inFlight: 1, networks: 2, blocked: [blocked] });
  });

  it("lists the networks where a service has anything, by city, leaving out unknown networks and empty replica targets", () => {
    const networks = new Map(
      [network("t", "Tokyo"), network("p", "Paris"), network("l", "Lima")].map((n) => [n.id, n]),
    );
    const rows = serviceRows(
      [
        { ...emptyReplicaTarget("t"), desired: 1 },
        emptyReplicaTarget("l"),
        { ...emptyReplicaTarget("p"), activating: 1 },
        { ...emptyReplicaTarget("gone"), desired: 4 },
        { ...emptyReplicaTarget("x"), blockedReason: "?" },
      ],
      networks,
    );
    expect(rows.map((r) => r.n.city)).toEqual(["Paris", "Tokyo"]);
  });

  it("sums replica targets per service; a network counts where the service is wanted", () => {
    const target = (serviceId: string, desired: number, running: number) => ({
      serviceId,
      service: { slug: serviceId, name: serviceId.toUpperCase() },
      desired,
      running,
    });
    expect(
      targetsPerService([target("map", 2, 1), target("fin", 0, 1), target("map", 0, 1), target("map", 1, 0)]),
    ).toEqual([
      { slug: "map", name: "MAP", desired: 3, running: 2, networks: 2 },
      { slug: "fin", name: "FIN", desired: 0, running: 1, networks: 0 },
    ]);
  });
});
