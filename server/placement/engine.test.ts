import { describe, expect, it } from "vitest";
import { placeMatch } from "./engine";
import { placeMatchReference } from "./reference";
import { rttMatrix } from "./row-bounds";
import {
  type MatchPlayer,
  PlacementInputError,
  type PlacementRequest,
  type RttMatrix,
  type ServerCandidate,
} from "./types";
import { seededRandom } from "../../test/random";

const servers = (...ids: string[]): ServerCandidate[] => ids.map((id) => ({ id }));
const players = (...ids: string[]): MatchPlayer[] =>
  ids.map((id) => ({ id, team: id.startsWith("e") ? "east" : "west" }));
const matrix = (rows: number[][]) => Float64Array.from(rows.flat());

describe("placeMatch (thesis §6.2.1)", () => {
  // Two east-coast and two west-coast players; servers on each coast and in the middle.
  const coasts: PlacementRequest = {
    servers: servers("nyc", "kansas", "la"),
    players: players("e1", "e2", "w1", "w2"),
    rttMs: matrix([
      [10, 14, 72, 76],
      [38, 40, 37, 41],
      [74, 70, 12, 9],
    ]),
  };

  it("chooses the server with the smallest mean pairwise RTT difference", () => {
    const result = placeMatch(coasts);
    expect(result.chosen).toBe("kansas");
    expect(result.candidates.map((c) => c.id)).toEqual(["kansas", "la", "nyc"]); // la: 253/6 < nyc: 256/6
    // Pairs: (38,40) 2, (38,37) 1, (38,41) 3, (40,37) 3, (40,41) 1, (37,41) 4 → 14/6.
    expect(result.candidates[0]).toEqual({ id: "kansas", closeness: 14 / 6, maxRtt: 41, spread: 4, clanDifference: 0 }); // both clans average 39
  });

  it("drops servers with any RTT above the cap, naming the worst player; the cap itself is allowed", () => {
    const result = placeMatch({
      servers: servers("far", "edge"),
      players: players("e1", "w1", "w2"),
      rttMs: matrix([
        [100, 190, 181],
        [180, 180, 10],
      ]),
    });
    expect(result.excluded).toEqual([{ id: "far", reason: 'RTT 190.0 ms to player "w1" exceeds the 180 ms cap' }]);
    expect(result.chosen).toBe("edge");
    expect(placeMatch({ ...coasts, maxRttMs: 40 }).excluded.map((e) => e.id)).toEqual(["nyc", "kansas", "la"]);
    expect(placeMatch({ ...coasts, maxRttMs: 40 }).chosen).toBeNull();
  });

  it("excludes unavailable hosts with every reason that applies", () => {
    const result = placeMatch({
      ...coasts,
      servers: [
        { id: "nyc", down: true },
        { id: "kansas", busy: true, untrusted: true },
        { id: "la", missingImage: true },
      ],
    });
    expect(result.chosen).toBeNull();
    expect(result.excluded).toEqual([
      { id: "nyc", reason: "host is down" },
      { id: "kansas", reason: "host is booked in the requested time slot; host is not trusted" },
      { id: "la", reason: "the game's VM image is not reachable from this host" },
    ]);
  });

  it("breaks ties by max RTT, then spread, then id, whatever the input order", () => {
    const tied: PlacementRequest = {
      servers: servers("b", "a", "c"),
      players: players("e1", "w1"),
      rttMs: matrix([
        [10, 20],
        [20, 30],
        [5, 15],
      ]),
    };
    expect(placeMatch(tied).candidates.map((c) => c.id)).toEqual(["c", "b", "a"]);
    const sameEverything = {
      ...tied,
      rttMs: matrix([
        [10, 20],
        [10, 20],
        [20, 10],
      ]),
    };
    expect(placeMatch(sameEverything).candidates.map((c) => c.id)).toEqual(["a", "b", "c"]);
  });

  it("ranks by the chosen objective", () => {
    const request: PlacementRequest = {
      servers: servers("even", "low"),
      players: players("e1", "e2", "w1", "w2"),
      // "even": all close to each other but high; "low": low max, uneven.
      rttMs: matrix([
        [90, 91, 90, 91],
        [5, 60, 5, 60],
      ]),
    };
    expect(placeMatch(request).chosen).toBe("even");
    expect(placeMatch({ ...request, objective: "maxRtt" }).chosen).toBe("low");
    expect(placeMatch({ ...request, objective: "spread" }).chosen).toBe("even");
    // Team means: "low" gives east 32.5 / west 32.5 (no clan advantage), "even" 90.5 / 90.5.
    expect(placeMatch({ ...request, objective: "clanDifference" }).candidates.map((c) => c.clanDifference)).toEqual([
      0, 0,
    ]);
  });

  it("reports clanDifference as null without teams and refuses that objective", () => {
    const noTeams = { ...coasts, players: coasts.players.map(({ id }) => ({ id })) };
    expect(placeMatch(noTeams).candidates[0]?.clanDifference).toBeNull();
    expect(() => placeMatch({ ...noTeams, objective: "clanDifference" })).toThrow(/needs a team/);
  });

  it("rejects bad requests with a message naming the problem", () => {
    const bad = (patch: Partial<PlacementRequest>) => () => placeMatch({ ...coasts, ...patch });
    expect(bad({ players: players("e1"), rttMs: matrix([[1], [2], [3]]) })).toThrow(
      new PlacementInputError("need at least 2 players, got 1"),
    );
    expect(bad({ servers: servers("a", "a", "b") })).toThrow(/servers: duplicate id "a"/);
    expect(bad({ players: players("e1", "e1", "w1", "w2") })).toThrow(/players: duplicate id "e1"/);
    expect(bad({ rttMs: new Float64Array(11) })).toThrow(/11 values, expected 3 servers × 4 players = 12/);
    expect(
      bad({
        rttMs: matrix([
          [1, 2, 3, 4],
          [1, -2, 3, 4],
          [1, 2, 3, 4],
        ]),
      }),
    ).toThrow(/server "kansas" to player "e2" .* got -2/);
    expect(
      bad({
        rttMs: matrix([
          [1, 2, 3, 4],
          [1, 2, 3, 4],
          [1, 2, Number.NaN, 4],
        ]),
      }),
    ).toThrow(/got NaN/);
    expect(bad({ maxRttMs: 0 })).toThrow(/maxRttMs must be a positive number/);
    expect(bad({ limit: 0 })).toThrow(/limit must be a positive integer/);
  });

  it("treats Infinity as unreachable: over any cap", () => {
    const result = placeMatch({
      ...coasts,
      rttMs: matrix([
        [10, 14, 72, Infinity],
        [38, 40, 37, 41],
        [74, 70, 12, 9],
      ]),
    });
    expect(result.excluded).toEqual([{ id: "nyc", reason: 'RTT Infinity ms to player "w2" exceeds the 180 ms cap' }]);
  });
});

describe("placeMatch on a matrix made by rttMatrix (the SIMD pass)", () => {
  const simd = (rows: number[][]) => inLayout("simd", matrix(rows), rows.length, rows[0]!.length);
  const request = (rows: number[][]): PlacementRequest => ({
    servers: servers(...rows.map((_, i) => `s${i}`)),
    players: players("e1", "e2", "w1", "w2", "w3").slice(0, rows[0]!.length),
    rttMs: simd(rows),
  });

  it("names the first bad value, as on any array", () => {
    expect(() =>
      placeMatch(
        request([
          [1, 2, 3, 4],
          [500, 2, -2, 4],
          [1, 2, 3, 4],
        ]),
      ),
    ).toThrow(/server "s1" to player "w1" .* got -2/);
    expect(() =>
      placeMatch(
        request([
          [1, 2, 3, 4, 5],
          [1, 2, 3, 4, 5],
          [1, 2, 3, 4, Number.NaN],
        ]),
      ),
    ).toThrow(/server "s2" to player "w3" .* got NaN/);
  });

  it("reads a negative zero as 0, keeps the cap itself, drops Infinity and anything above the cap", () => {
    const rows = [
      [-0, -0, 0, 0],
      [180, 180, 180, 180],
      [10, 10, 10, Infinity],
      [10, 180.0001, 10, 10],
      [20, 30, 20, 30],
    ];
    const result = placeMatch(request(rows));
    expect(result).toEqual(placeMatchReference({ ...request(rows), rttMs: matrix(rows) }));
    expect(result.candidates.map((c) => c.id)).toEqual(["s0", "s1", "s4"]);
    expect(result.excluded.map((e) => e.id)).toEqual(["s2", "s3"]);
  });
});

/** Random requests shaped like real ones: clustered clans, some ties, some unavailable hosts. */
function randomRequest(next: () => number, integers: boolean, layout: Layout): PlacementRequest {
  const m = 1 + Math.floor(next() * 40);
  const n = 2 + Math.floor(next() * 70); // crosses the pairwise/sorted switch in closeness.ts
  const teams = next() < 0.8;
  const clusters = [10 + next() * 150, 10 + next() * 150];
  const rtt = new Float64Array(m * n);
  for (let i = 0; i < rtt.length; i++) {
    const base = next() < 0.5 ? clusters[0]! : clusters[1]!;
    const value = next() < 0.1 ? next() * 260 : base + next() * 30;
    rtt[i] = integers ? Math.round(value) : value;
  }
  return {
    servers: Array.from({ length: m }, (_, i) => ({
      id: `s${(i * 7919) % 1000}-${i}`,
      busy: next() < 0.05,
      down: next() < 0.05,
    })),
    players: Array.from({ length: n }, (_, i) => ({
      id: `p${i}`,
      team: teams ? (i < 2 ? "AB"[i] : next() < 0.5 ? "A" : "B") : undefined,
    })),
    rttMs: inLayout(layout, rtt, m, n),
    maxRttMs: next() < 0.3 ? 100 + next() * 100 : undefined,
    objective: (["closeness", "closeness", "maxRtt", "spread", teams ? "clanDifference" : "closeness"] as const)[
      Math.floor(next() * 5)
    ],
    limit: next() < 0.5 ? 1 + Math.floor(next() * 5) : undefined,
  };
}

/** Both ways the engine reads a matrix: any typed array (scalar scan), or one made by rttMatrix (SIMD pass first). */
const LAYOUTS = ["float64", "simd"] as const;
type Layout = (typeof LAYOUTS)[number];

/** The same values in a Float64Array, or in a matrix made by rttMatrix (float32: the reference then reads the rounded values too). */
function inLayout(layout: Layout, values: Float64Array, m: number, n: number): RttMatrix {
  if (layout === "float64") return values;
  const matrix = rttMatrix(m, n);
  matrix.set(values);
  return matrix;
}

describe.each(LAYOUTS)("placeMatch agrees with the thesis reference (property), %s matrix", (layout) => {
  it("on integer RTTs: identical output", () => {
    const next = seededRandom(1);
    for (let trial = 0; trial < 400; trial++) {
      const request = randomRequest(next, true, layout);
      // Integer inputs make both sums exact, so even ties must resolve identically.
      expect(placeMatch(request), `trial ${trial}`).toEqual(placeMatchReference(request));
    }
  });

  it("on real-valued RTTs: same exclusions and candidates, scores equal to 1e-9", () => {
    const next = seededRandom(2);
    for (let trial = 0; trial < 400; trial++) {
      const request = randomRequest(next, false, layout);
      const fast = placeMatch(request);
      const reference = placeMatchReference(request);
      expect(fast.excluded).toEqual(reference.excluded);
      expect(fast.candidates.map((c) => c.id)).toEqual(reference.candidates.map((c) => c.id));
      fast.candidates.forEach((c, i) => {
        expect(c.closeness).toBeCloseTo(reference.candidates[i]!.closeness, 9);
        expect(c.maxRtt).toBe(reference.candidates[i]!.maxRtt);
        expect(c.spread).toBe(reference.candidates[i]!.spread);
      });
    }
  });

  it("with a limit, returns exactly the first entries of the full ranking (pruning is safe)", () => {
    const next = seededRandom(3);
    for (let trial = 0; trial < 300; trial++) {
      const request = { ...randomRequest(next, next() < 0.5, layout), objective: "closeness" as const };
      const limit = 1 + Math.floor(next() * 6);
      const full = placeMatch({ ...request, limit: undefined });
      expect(placeMatch({ ...request, limit }).candidates).toEqual(full.candidates.slice(0, limit));
    }
  });

  it("at scale, where pruning skips most servers: identical output, ties and caps included", () => {
    const next = seededRandom(5);
    for (let trial = 0; trial < 40; trial++) {
      const m = 200 + Math.floor(next() * 1800);
      const n = 2 + Math.floor(next() * 70);
      const distinct = trial % 2 ? 4 : 40; // few distinct values: many exact ties
      const rtt = Float64Array.from({ length: m * n }, () => Math.round(next() * distinct) * (200 / distinct));
      for (let copy = 0; copy < 20; copy++) {
        const from = Math.floor(next() * m);
        const to = Math.floor(next() * m);
        rtt.copyWithin(to * n, from * n, from * n + n); // duplicate servers
      }
      const request: PlacementRequest = {
        servers: Array.from({ length: m }, (_, i) => ({ id: `h${(i * 7919) % 100_000}`, down: next() < 0.02 })),
        players: Array.from({ length: n }, (_, i) => ({ id: `p${i}`, team: i % 2 ? "A" : "B" })),
        rttMs: inLayout(layout, rtt, m, n),
        maxRttMs: [100, 150, 180, 1000][trial % 4],
        objective: (["closeness", "closeness", "maxRtt", "spread", "clanDifference"] as const)[trial % 5],
        limit: 1 + Math.floor(next() * 10),
      };
      expect(placeMatch(request), `trial ${trial}`).toEqual(placeMatchReference(request));
    }
  });

  it("does not depend on the order of servers or players", () => {
    const next = seededRandom(4);
    for (let trial = 0; trial < 100; trial++) {
      const request = randomRequest(next, true, layout);
      const n = request.players.length;
      const m = request.servers.length;
      const serverOrder = Array.from({ length: m }, (_, i) => m - 1 - i);
      const playerOrder = Array.from({ length: n }, (_, i) => (i * 5 + 3) % n).filter((v, i, a) => a.indexOf(v) === i);
      if (playerOrder.length !== n) continue; // 5 not coprime with n
      const shuffled: PlacementRequest = {
        ...request,
        servers: serverOrder.map((s) => request.servers[s]!),
        players: playerOrder.map((p) => request.players[p]!),
        rttMs: inLayout(
          layout,
          Float64Array.from(
            { length: m * n },
            (_, i) => request.rttMs[serverOrder[Math.floor(i / n)]! * n + playerOrder[i % n]!]!,
          ),
          m,
          n,
        ),
      };
      const a = placeMatch(request);
      const b = placeMatch(shuffled);
      expect(b.chosen).toBe(a.chosen);
      expect(b.candidates.map((c) => c.id)).toEqual(a.candidates.map((c) => c.id));
    }
  });
});
