import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labHostTarget } from "../contract/targets";
import { SshHostDriver, type HostTarget } from "../../server/hosts/driver";
import { locateIp } from "../../server/latency/geoip";
import { estimateRttMs } from "../../server/latency/model";
import { pingRttMs, rttCell } from "../../server/matches/ping-profile";
import { groundTruth } from "./ground-truth";
import { startSimLab, type SimLab } from "./lab";
import { DEFAULT_GROUND_TRUTH_SEED } from "./rtt";

// What "Measure pings" reads from a sim host, over SSH: the ground truth's probes, not the model.
const DALLAS = { lat: 32.7767, lon: -96.797 };
const PLAYER_IP = "12.14.0.10";
let dataDir: string;
let lab: SimLab;
let host: HostTarget;
const driver = new SshHostDriver({ connectTimeoutMs: 10_000 });

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "vmatrix-ground-truth-"));
  lab = await startSimLab({ dataDir, hosts: [{ name: "gt-dallas", role: "PRODUCTION", city: "Dallas", ...DALLAS }] });
  host = labHostTarget(lab.manifest.hosts[0]!);
});

afterAll(async () => {
  await driver.close();
  await lab.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe("a sim host's ping", () => {
  it("measures the ground truth's probes, which differ from the model", async () => {
    const player = locateIp(PLAYER_IP)!;
    const truth = groundTruth(DEFAULT_GROUND_TRUTH_SEED);
    const probes = [0, 1, 2].map((n) => truth.probeRttMs(DALLAS, player, "access", n));
    const model = estimateRttMs(DALLAS, player);

    const result = await driver.ping(host, PLAYER_IP, 3);
    expect(result).toMatchObject({ transmitted: 3, received: 3 });
    expect(result.minMs).toBeCloseTo(Math.min(...probes), 2);
    expect(result.maxMs).toBeCloseTo(Math.max(...probes), 2);
    const cell = rttCell(model, { ip: PLAYER_IP }, { result });
    expect(cell).toEqual({ rttMs: pingRttMs(result), source: "measured" });
    expect(cell.rttMs).toBeCloseTo([...probes].sort((a, b) => a - b)[1]!, 2);
    // Close to the model on this well-cabled route, but not the model's number (the unit
    // tests hold the ground truth to a realistic spread around the model).
    expect(cell.rttMs).not.toBeCloseTo(model, 1);

    // The next run is the next three probes: another median, from the same route.
    const again = await driver.ping(host, PLAYER_IP, 3);
    expect(again.minMs).toBeCloseTo(
      Math.min(...[3, 4, 5].map((n) => truth.probeRttMs(DALLAS, player, "access", n))),
      2,
    );
  });

  it("gets no reply from an address GeoIP cannot place, and the model fills in", async () => {
    const result = await driver.ping(host, "10.1.2.3", 1);
    expect(result.received).toBe(0);
    expect(rttCell(40, { ip: "10.1.2.3" }, { result })).toMatchObject({ rttMs: 40, source: "model" });
  });
});
