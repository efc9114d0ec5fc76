import { describe, expect, it } from "vitest";
import { placementJson, recordedPlacement } from "./placement-record";
import { placeVm, type HostCandidate } from "./scheduler";

const host = (name: string, hostingNetwork: string, lat: number, lon: number): HostCandidate => ({
  id: `id-${name}`,
  name,
  role: "PRODUCTION",
  status: "UP",
  hostKeyTrust: "TRUSTED",
  draining: false,
  retired: false,
  hostingNetworkId: hostingNetwork,
  hostingNetwork,
  lat,
  lon,
  linkMbps: 1000,
  vmSlots: 1,
  vmsPlaced: 0,
  freeDiskBytes: 1e12,
  bytesPresent: 0,
});

describe("the recorded placement", () => {
  it("reads back what the scheduler stored, through JSON, and flattens it for scripts", () => {
    const placement = placeVm(
      [host("tokyo-prod-1", "tokyo", 35.68, 139.65), host("paris-prod-1", "paris", 48.86, 2.35)],
      {
        vmBytes: 1e9,
        role: "PRODUCTION",
        origins: [
          { hostingNetworkId: "paris", hostingNetwork: "paris", lat: 48.86, lon: 2.35, linkMbps: 1000, bytes: 1e9 },
        ],
        demand: { cells: [{ lat: 35.5, lon: 139.5, requests: 10 }], replicas: [], windowMinutes: 60 },
      },
    );
    const stored = JSON.parse(JSON.stringify({ placement, files: {} })) as unknown;
    const r = recordedPlacement(stored)!;
    expect(r.chosen).toEqual({ name: "tokyo-prod-1", hostingNetwork: "tokyo" });
    expect(r.numbers).toEqual(placement.numbers);
    expect(placementJson(r)).toMatchObject({
      host: "tokyo-prod-1",
      hostingNetwork: "tokyo",
      rule: "demand",
      demandWeightedRttMs: { before: null, after: placement.numbers!.demand!.afterMs },
      demandCells: 1,
      bytes: 1e9,
      from: "paris",
      runnerUp: { host: "paris-prod-1", hostingNetwork: "paris", lostOn: "demand-rtt" },
    });
  });

  it("reads an older record (a summary, no numbers) and nothing from a decision without a placement", () => {
    const old = { placement: { chosen: { hostId: "h", name: "a" }, summary: "a scored 2.000.", candidates: [] } };
    expect(recordedPlacement(old)).toEqual({
      summary: "a scored 2.000.",
      chosen: { name: "a", hostingNetwork: null },
      numbers: null,
    });
    expect(placementJson(recordedPlacement(old)!)).toMatchObject({ host: "a", rule: null, runnerUp: null });
    expect(recordedPlacement({ placement: null, files: {} })).toBeNull();
    expect(recordedPlacement(null)).toBeNull();
  });
});
