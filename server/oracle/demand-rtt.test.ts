import { describe, expect, it } from "vitest";
import { estimateRttMs } from "../latency/model";
import { demandView, meanRttWith } from "./demand-rtt";

const tokyo = { lat: 35.68, lon: 139.65 };
const frankfurt = { lat: 50.11, lon: 8.68 };
const cells = [
  { lat: 35.5, lon: 139.5, requests: 300 },
  { lat: 48.5, lon: 2.5, requests: 100 },
];

describe("demand-weighted RTT", () => {
  it("serves each cell from its nearest replica, weighted by requests, with the latency model's numbers (its table: within 0.5 %)", () => {
    const view = demandView(cells, [tokyo, frankfurt]);
    const expected =
      (300 * Math.min(estimateRttMs(cells[0]!, tokyo), estimateRttMs(cells[0]!, frankfurt)) +
        100 * Math.min(estimateRttMs(cells[1]!, tokyo), estimateRttMs(cells[1]!, frankfurt))) /
      400;
    expect(Math.abs(view.beforeMs! / expected - 1)).toBeLessThan(0.005);
    expect(view.total).toBe(400);
  });

  it("is null before any replica runs, and says what one more replica would give", () => {
    const view = demandView(cells, []);
    expect(view.beforeMs).toBeNull();
    const withTokyo = meanRttWith(view, tokyo)!;
    const model = (300 * estimateRttMs(cells[0]!, tokyo) + 100 * estimateRttMs(cells[1]!, tokyo)) / 400;
    expect(Math.abs(withTokyo / model - 1)).toBeLessThan(0.005);
    // A replica in Frankfurt as well serves the European cell faster.
    expect(meanRttWith(demandView(cells, [tokyo]), frankfurt)!).toBeLessThan(withTokyo);
    // A second replica in the same place changes nothing.
    expect(meanRttWith(demandView(cells, [tokyo]), tokyo)).toBe(withTokyo);
  });

  it("is null without demand", () => {
    expect(meanRttWith(demandView([], [tokyo]), frankfurt)).toBeNull();
    expect(demandView([], [tokyo]).beforeMs).toBeNull();
  });
});
