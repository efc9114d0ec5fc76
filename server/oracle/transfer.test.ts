import { describe, expect, it } from "vitest";
import { estimateRttMs } from "../latency/model";
import { LOCAL_LINK_MBPS, SSH_WINDOW_BYTES, transferEstimate } from "./transfer";

const GB = 1e9;
const at = (id: string, lat: number, lon: number, linkMbps = 1000) => ({ hostingNetworkId: id, lat, lon, linkMbps });
const ashburn = at("ashburn", 39.04, -77.49);
const newYork = at("new-york", 40.71, -74.01);
const tokyo = at("tokyo", 35.68, 139.65);

describe("transferEstimate", () => {
  it("copies inside a hosting network over its LAN, not its Internet link", () => {
    const t = transferEstimate(GB, ashburn, { ...ashburn, linkMbps: 10 });
    expect(t).toMatchObject({ local: true, km: 0, rttMs: 0, mbps: LOCAL_LINK_MBPS });
    expect(t.seconds).toBeCloseTo((GB * 8) / (LOCAL_LINK_MBPS * 1e6), 9);
  });

  it("near: the slower link limits", () => {
    const t = transferEstimate(GB, { ...ashburn, linkMbps: 10_000 }, newYork);
    expect(t.mbps).toBe(1000);
    expect(t.seconds).toBeCloseTo(8, 9);
  });

  it("far: one SSH window per round trip limits, whatever the links", () => {
    const t = transferEstimate(GB, { ...ashburn, linkMbps: 10_000 }, { ...tokyo, linkMbps: 10_000 });
    const windowMbps = (SSH_WINDOW_BYTES * 8) / (estimateRttMs(ashburn, tokyo) / 1000) / 1e6;
    expect(t.mbps).toBeCloseTo(windowMbps, 9);
    expect(t.mbps).toBeLessThan(200);
    expect(t.seconds).toBeGreaterThan(transferEstimate(GB, ashburn, newYork).seconds * 5);
    expect(t.km).toBeGreaterThan(10_000);
  });
});
