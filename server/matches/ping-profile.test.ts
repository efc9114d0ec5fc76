import { describe, expect, it } from "vitest";
import { pingRttMs, rankMeasured, rttCell } from "./ping-profile";

const reply = (minMs: number, avgMs: number, maxMs: number, received = 3) => ({
  transmitted: 3,
  received,
  minMs,
  avgMs,
  maxMs,
});

describe("pingRttMs", () => {
  it("takes the median of three probes from min/avg/max", () => {
    expect(pingRttMs(reply(10, 20, 40))).toBeCloseTo(10, 9);
    expect(pingRttMs(reply(10, 15, 20))).toBeCloseTo(15, 9);
  });
  it("falls back to the average with fewer replies, and to null with none", () => {
    expect(pingRttMs(reply(10, 12, 14, 2))).toBe(12);
    expect(pingRttMs({ transmitted: 3, received: 0, minMs: null, avgMs: null, maxMs: null })).toBeNull();
  });
});

describe("rttCell", () => {
  it("prefers the measurement and says why when it keeps the model", () => {
    expect(rttCell(50, { ip: "12.14.0.10" }, { result: reply(30, 31, 32) })).toEqual({ rttMs: 31, source: "measured" });
    expect(rttCell(50, { ip: null }, undefined)).toEqual({
      rttMs: 50,
      source: "model",
      why: "placed on the map: no IP to ping",
    });
    expect(rttCell(50, { ip: "12.14.0.10" }, { error: "host x: unreachable" })).toEqual({
      rttMs: 50,
      source: "model",
      why: "ping failed: host x: unreachable",
    });
    expect(
      rttCell(
        50,
        { ip: "12.14.0.10" },
        { result: { transmitted: 3, received: 0, minMs: null, avgMs: null, maxMs: null } },
      ),
    ).toMatchObject({
      rttMs: 50,
      source: "model",
      why: expect.stringMatching(/no reply/),
    });
  });
});

describe("rankMeasured", () => {
  const host = (id: string) => ({ id, name: id, city: id, country: "US", lat: 0, lon: 0, reasons: [] });
  const players = [
    { name: "a", team: "A" as const, ip: "12.14.0.10", lat: 40, lon: -74 },
    { name: "b", team: "B" as const, ip: null, lat: 34, lon: -118 },
  ];
  const measured = (rttMs: number) => ({ rttMs, source: "measured" as const });

  it("re-ranks on the measured values and drops hosts over the cap with the reason", () => {
    const ranking = rankMeasured(
      [host("h1"), host("h2"), host("h3")],
      players,
      [
        [measured(10), measured(40)],
        [measured(30), measured(32)],
        [measured(200), measured(20)],
      ],
      [
        [20, 22],
        [50, 31],
        [150, 25],
      ],
      { objective: "closeness", maxRttMs: 180 },
    );
    // The model would put h1 first (C_s 2 against 19); the pings decide.
    expect(ranking.candidates.map((c) => [c.hostId, c.closeness])).toEqual([
      ["h2", 2],
      ["h1", 30],
    ]);
    expect(ranking.recommended?.cells).toEqual([measured(30), measured(32)]);
    // Each player's measured value is shown beside the model's.
    expect(ranking.recommended).toMatchObject({ rttMs: [30, 32], measuredMs: [30, 32], modelledMs: [50, 31] });
    expect(ranking.excluded).toEqual([
      {
        hostId: "h3",
        hostName: "h3",
        city: "h3",
        reason: expect.stringMatching(/RTT 200.0 ms to player "a \(40.000, -74.000\)" exceeds the 180 ms cap/),
      },
    ]);
  });

  it("keeps the model's value where nothing was measured, and says so", () => {
    const ranking = rankMeasured(
      [host("h1")],
      players,
      [[measured(31), { rttMs: 44, source: "model", why: "placed on the map: no IP to ping" }]],
      [[38, 44]],
      { objective: "closeness", maxRttMs: 180 },
    );
    expect(ranking.recommended).toMatchObject({ rttMs: [31, 44], measuredMs: [31, null], modelledMs: [38, 44] });
  });
});
