import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "..");
const dir = mkdtempSync(path.join(tmpdir(), "place-cli-"));

/** Runs `npx tsx scripts/place.ts --input FILE` on `input` (an object, or raw text). */
async function place(name: string, input: unknown) {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, typeof input === "string" ? input : JSON.stringify(input));
  try {
    const { stdout, stderr } = await run("npx", ["tsx", "scripts/place.ts", "--input", file], { cwd: root });
    return { code: 0, stdout, stderr, file };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr, file };
  }
}

const matrixInput = {
  servers: [{ id: "nyc" }, { id: "kansas" }, { id: "la" }, { id: "tokyo" }, { id: "spare", busy: true }],
  players: [
    { id: "e1", team: "east" },
    { id: "e2", team: "east" },
    { id: "w1", team: "west" },
    { id: "w2", team: "west" },
  ],
  rttMs: [
    [10, 14, 72, 76],
    [38, 40, 37, 41],
    [74, 70, 12, 9],
    [190, 185, 120, 118],
    [1, 1, 1, 1],
  ],
};

describe("place CLI", { timeout: 60_000 }, () => {
  it.concurrent("prints the choice, eligible candidates best first and exclusions with reasons", async () => {
    const { code, stdout, stderr } = await place("matrix", matrixInput);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      chosen: "kansas",
      candidates: [
        { id: "kansas", closeness: 14 / 6, maxRtt: 41, spread: 4 },
        { id: "la", closeness: 253 / 6, maxRtt: 74, spread: 65 },
        { id: "nyc", closeness: 256 / 6, maxRtt: 76, spread: 66 },
      ],
      excluded: [
        { id: "tokyo", reason: 'RTT 190.0 ms to player "e1" exceeds the 180 ms cap' },
        { id: "spare", reason: "host is booked in the requested time slot" },
      ],
    });
  });

  it.concurrent("honours maxRttMs and reports chosen null when nothing is eligible", async () => {
    const { code, stdout } = await place("cap", { ...matrixInput, maxRttMs: 20 });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ chosen: null, candidates: [] });
  });

  it.concurrent(
    "uses the latency model for lat/lon and IP players: a US east/west match lands in the middle",
    async () => {
      const { code, stdout, stderr } = await place("geo", {
        servers: [
          { id: "new-york", lat: 40.71, lon: -74.01 },
          { id: "kansas-city", lat: 39.1, lon: -94.58 },
          { id: "los-angeles", lat: 34.05, lon: -118.24 },
          { id: "frankfurt", lat: 50.11, lon: 8.68 },
        ],
        players: [
          { id: "e1", team: "east", lat: 40.71, lon: -74.01 },
          { id: "e2", team: "east", lat: 42.36, lon: -71.06 },
          { id: "w1", team: "west", lat: 37.77, lon: -122.42 },
          { id: "w2", team: "west", ip: "8.8.8.8" },
        ],
      });
      expect(stderr).toBe("");
      expect(code).toBe(0);
      const output = JSON.parse(stdout) as { chosen: string; candidates: { id: string; closeness: number }[] };
      expect(output.chosen).toBe("kansas-city");
      expect(output.candidates[0]!.closeness).toBeLessThan(output.candidates[1]!.closeness);
    },
  );

  const bad: [string, unknown, RegExp][] = [
    [
      "ragged",
      {
        ...matrixInput,
        rttMs: [
          [1, 2, 3, 4],
          [1, 2, 3],
          [1, 2, 3, 4],
          [1, 2, 3, 4],
          [1, 2, 3, 4],
        ],
      },
      /rttMs\[1\]: ragged matrix: row has 3 values, expected 4/,
    ],
    ["rows", { ...matrixInput, rttMs: [[1, 2, 3, 4]] }, /rttMs: has 1 rows, expected 5/],
    [
      "negative",
      { ...matrixInput, rttMs: matrixInput.rttMs.map((r, s) => (s === 2 ? [1, -5, 3, 4] : r)) },
      /rttMs\[2\]\[1\]: must be a non-negative number of ms, got -5/,
    ],
    [
      "non-numeric",
      { ...matrixInput, rttMs: matrixInput.rttMs.map((r, s) => (s === 0 ? [1, "12", 3, 4] : r)) },
      /rttMs\[0\]\[1\]: .*got "12"/,
    ],
    [
      "null-rtt",
      { ...matrixInput, rttMs: matrixInput.rttMs.map((r, s) => (s === 0 ? [1, null, 3, 4] : r)) },
      /rttMs\[0\]\[1\]: .*got null/,
    ],
    [
      "one-player",
      { servers: [{ id: "a" }], players: [{ id: "p" }], rttMs: [[1]] },
      /players: need at least 2 players, got 1/,
    ],
    [
      "duplicate-server",
      { ...matrixInput, servers: matrixInput.servers.map((s, i) => (i === 3 ? { id: "nyc" } : s)) },
      /servers\[3\]\.id: duplicate id "nyc"/,
    ],
    [
      "duplicate-player",
      { ...matrixInput, players: [...matrixInput.players.slice(0, 3), { id: "e1" }] },
      /players\[3\]\.id: duplicate id "e1"/,
    ],
    [
      "missing-id",
      { ...matrixInput, servers: [{}, ...matrixInput.servers.slice(1)] },
      /servers\[0\]\.id: must be a non-empty string/,
    ],
    [
      "no-location",
      {
        servers: [{ id: "a" }],
        players: [
          { id: "p", lat: 1, lon: 2 },
          { id: "q", lat: 3, lon: 4 },
        ],
      },
      /servers\[0\]: server "a" needs lat\/lon/,
    ],
    [
      "bad-ip",
      {
        servers: [{ id: "a", lat: 1, lon: 1 }],
        players: [
          { id: "p", ip: "300.1.1.1" },
          { id: "q", lat: 1, lon: 2 },
        ],
      },
      /players\[0\]\.ip: must be an IPv4 or IPv6 address/,
    ],
    [
      "private-ip",
      {
        servers: [{ id: "a", lat: 1, lon: 1 }],
        players: [
          { id: "p", ip: "10.0.0.7" },
          { id: "q", lat: 1, lon: 2 },
        ],
      },
      /players\[0\]\.ip: 10\.0\.0\.7 is private/,
    ],
    ["bad-cap", { ...matrixInput, maxRttMs: 0 }, /maxRttMs: must be > 0/],
    [
      "bad-objective",
      { ...matrixInput, objective: "fastest" },
      /objective: must be one of closeness, maxRtt, spread, clanDifference/,
    ],
    ["not-json", "{ nope", /is not valid JSON/],
    ["not-object", "[]", /the input must be a JSON object/],
  ];
  for (const [name, input, message] of bad) {
    it.concurrent(`rejects ${name} input with one line naming the problem`, async () => {
      const { code, stdout, stderr, file } = await place(name, input);
      expect(code).not.toBe(0);
      expect(stdout).toBe("");
      expect(stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(stderr).toMatch(message);
      expect(stderr.startsWith(file)).toBe(true);
    });
  }

  it.concurrent("rejects a missing file and a missing --input", async () => {
    const missing = await run("npx", ["tsx", "scripts/place.ts", "--input", path.join(dir, "absent.json")], {
      cwd: root,
    }).catch((e: { code: number; stderr: string }) => e);
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringMatching(/^cannot read .*absent\.json: ENOENT\n$/) });
    const noInput = await run("npx", ["tsx", "scripts/place.ts"], { cwd: root }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(noInput).toMatchObject({ code: 1, stderr: "missing --input FILE\n" });
  });
});
