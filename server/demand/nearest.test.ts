import { describe, expect, it } from "vitest";
import { ClientPlaceError, clientPlace, nearestReplica, type ReplicaPlace } from "./nearest";

const replica = (vm: string, lat: number, lon: number): ReplicaPlace => ({
  vm,
  host: `${vm}-host`,
  hostingNetwork: vm,
  city: vm,
  lat,
  lon,
  address: null,
});
const replicas = [
  replica("frankfurt", 50.11, 8.68),
  replica("new-york", 40.71, -74.01),
  replica("tokyo", 35.68, 139.69),
];

describe("nearestReplica", () => {
  it("serves a client from the replica with the least modelled RTT", () => {
    expect(nearestReplica({ lat: 48.86, lon: 2.35 }, replicas)?.replica.vm).toBe("frankfurt");
    expect(nearestReplica({ lat: 42.36, lon: -71.06 }, replicas)?.replica.vm).toBe("new-york");
    expect(nearestReplica({ lat: 37.57, lon: 126.98 }, replicas)?.replica.vm).toBe("tokyo");
    const far = nearestReplica({ lat: -23.55, lon: -46.63 }, replicas)!; // São Paulo
    expect(far.replica.vm).toBe("new-york");
    expect(far.rttMs).toBeGreaterThan(80);
  });

  it("breaks ties by VM name, and has no answer without replicas", () => {
    const twins = [replica("b", 10, 10), replica("a", 10, 10)];
    expect(nearestReplica({ lat: 0, lon: 0 }, twins)?.replica.vm).toBe("a");
    expect(nearestReplica({ lat: 0, lon: 0 }, [])).toBeNull();
  });
});

describe("clientPlace", () => {
  const locate = (ip: string) => {
    if (ip === "not-an-ip") throw new Error("invalid");
    return ip.startsWith("10.") ? null : { lat: 1, lon: 2 };
  };
  it("prefers lat/lon, else locates the IP", () => {
    expect(clientPlace({ lat: 5, lon: 6, ip: "8.8.8.8" }, locate)).toEqual({ lat: 5, lon: 6 });
    expect(clientPlace({ ip: "8.8.8.8" }, locate)).toEqual({ lat: 1, lon: 2 });
  });
  it("names the field and the reason when the client cannot be placed", () => {
    const reason = (input: Parameters<typeof clientPlace>[0]) => {
      try {
        clientPlace(input, locate);
      } catch (err) {
        if (err instanceof ClientPlaceError) return err.message;
      }
      return "no error";
    };
    expect(reason({ ip: "10.0.0.1" })).toMatch(/^ip: 10\.0\.0\.1 cannot be placed/);
    expect(reason({ ip: "not-an-ip" })).toMatch(/^ip: "not-an-ip" is not an IPv4 or IPv6 address/);
    expect(reason({ lat: 5 })).toBe("lon: is required with lat");
    expect(reason({})).toMatch(/^ip: give/);
  });
});
