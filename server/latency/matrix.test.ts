import { describe, expect, it } from "vitest";
import { modelledRttMatrix } from "./matrix";
import { estimateRttMs } from "./model";

describe("modelledRttMatrix", () => {
  it("lays out servers × players row-major, each entry the model's estimate", () => {
    const servers = [
      { lat: 40.7, lon: -74 },
      { lat: 39.1, lon: -94.6 },
      { lat: 34.05, lon: -118.24 },
    ];
    const players = [
      { lat: 42.36, lon: -71.06 },
      { lat: 37.77, lon: -122.42 },
    ];
    const matrix = modelledRttMatrix(servers, players);
    expect(matrix).toHaveLength(6);
    servers.forEach((s, i) => players.forEach((p, j) => expect(matrix[i * 2 + j]).toBeCloseTo(estimateRttMs(s, p), 9)));
  });

  it("names the bad point", () => {
    expect(() =>
      modelledRttMatrix(
        [{ lat: 0, lon: 0 }],
        [
          { lat: 0, lon: 0 },
          { lat: 0, lon: 200 },
        ],
      ),
    ).toThrow(/players\[1\]: lon/);
  });
});
