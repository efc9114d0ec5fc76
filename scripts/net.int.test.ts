import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimEdges, writeEdgeManifest, type SimEdges } from "../lab/sim/edge/lab";
import { startDnsServer, type DnsServer } from "../server/dns/server";
import { SshEdgeDriver } from "../server/edge/driver/driver";
import { edgesFrom, setEdges, type Edges } from "../server/edge/registry";
import { startOpsLab, type OpsLab } from "../test/ops-lab";
import { startOperationsWorker } from "../server/jobs/worker";
import { withCliApi } from "../test/run-cli";
import { startCallsOracle } from "../test/calls-oracle";

// Issue 8's "done when" on the sim lab, through the CLI an operator types: the map service
// activated in hosting network A (New York) and then in B (Frankfurt), each behind its own
// sim edge (HAProxy runtime API, nftables, addresses over SSH); the Oracle (a real
// operations worker, here in the test process) binds them; the DNS server answers.
let t: OpsLab;
let simEdges: SimEdges;
let edges: Edges;
let dns: DnsServer;
let dataDir: string;
let manifestPath: string;
let worker: Awaited<ReturnType<typeof startOperationsWorker>>;
/** The oracle's side of the API's calls (a probe reads an edge's firewall over SSH, only in an oracle). */
let calls: Awaited<ReturnType<typeof startCallsOracle>>;
const NAME = "map.vmatrix.test";
const NEW_YORK = "40.71,-74.01";
const PARIS = "48.86,2.35";
let A: string;
const B = "net-b";

beforeAll(async () => {
  t = await startOpsLab(undefined, { productionHosts: 2 });
  A = t.world.hn.slug;
  await t.db.hostingNetwork.update({
    where: { id: t.world.hn.id },
    data: { city: "New York", lat: 40.71, lon: -74.01, publicPoolCidr: "192.0.2.0/28" },
  });
  const b = await t.db.hostingNetwork.create({
    data: {
      slug: B,
      name: "B",
      city: "Frankfurt",
      country: "DE",
      continent: "Europe",
      lat: 50.11,
      lon: 8.68,
      publicPoolCidr: "198.51.100.0/28",
    },
  });
  await t.db.host.update({ where: { name: "ops-prod-b" }, data: { hostingNetworkId: b.id } });
  await t.db.service.update({ where: { id: t.world.service.id }, data: { dnsName: NAME } });

  dataDir = await mkdtemp(join(tmpdir(), "vmatrix-net-cli-"));
  const backends = [t.world.service.slug];
  simEdges = await startSimEdges({
    dataDir,
    edges: [
      { hostingNetwork: A, lat: 40.71, lon: -74.01, backends },
      { hostingNetwork: B, lat: 50.11, lon: 8.68, backends },
    ],
  });
  manifestPath = join(dataDir, "edges.json");
  await writeEdgeManifest(manifestPath, simEdges.manifest);
  edges = edgesFrom(simEdges.manifest, new SshEdgeDriver({ connectTimeoutMs: 2000, commandTimeoutMs: 10_000 }));
  setEdges(edges);
  worker = await startOperationsWorker(t.db, t.driver, {
    connectionString: t.url,
    concurrency: 2,
    pollIntervalMs: 100,
  });
  calls = await startCallsOracle({ ...t, edges: () => edges });
  dns = await startDnsServer(t.db, { host: "127.0.0.1", port: 0, zone: "vmatrix.test", ttl: 30, maxAgeMs: 0 });
  for (const [name, address] of [
    ["map-a", "10.10.0.2"],
    ["map-b", "10.10.0.3"],
  ] as const) {
    const vm = await t.makeVm(name, "ops-nest", true);
    await t.db.vm.update({ where: { id: vm.id }, data: { privateAddress: address } });
  }
}, 90_000);
afterAll(async () => {
  setEdges(null);
  await calls?.stop();
  await worker?.stop();
  await dns?.stop();
  await edges?.driver.close();
  await simEdges?.stop();
  await t?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

// The API (registered after the lab's hooks) runs where the web app would; what needs an edge it asks the oracle.
const { cli } = withCliApi(
  () => t,
  () => ({ EDGE_MANIFEST: manifestPath, DNS_ZONE: "vmatrix.test", DNS_TTL: "30" }),
);
async function json<T>(...args: string[]): Promise<T> {
  const r = await cli(...args, "--json");
  expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

interface Resolved {
  ttl: number;
  answers: { address: string; vm: string; hostingNetwork: string }[];
}
const resolveFrom = (place: string) => json<Resolved>("net", "resolve", NAME, "--from", place);

/** `dig +tcp @127.0.0.1 -p PORT map.vmatrix.test A` (loopback cannot be placed: every serving replica). */
async function digTcp(): Promise<string[]> {
  const { stdout } = await promisify(execFile)("dig", [
    "+tcp",
    "+short",
    "+tries=1",
    "@127.0.0.1",
    "-p",
    String(dns.port),
    NAME,
    "A",
  ]);
  return stdout.trim().split("\n").filter(Boolean).sort();
}
const hasDig = await promisify(execFile)("dig", ["-v"]).then(
  () => true,
  () => false,
);

describe("the map service through the CLI on the sim lab", () => {
  it("activated in A: net show gives its public address, NAT and backend; every place resolves to A", async () => {
    const op = await json<{ state: string; steps: { name: string; state: string }[] }>(
      "vm",
      "activate",
      "map-a",
      "--host",
      "ops-prod-a",
      "--wait",
    );
    expect(op.state).toBe("SUCCEEDED");
    expect(op.steps.find((s) => s.name === "bind")).toMatchObject({ state: "DONE" });

    const [entry, ...more] = await json<Record<string, unknown>[]>("net", "show", "map-a");
    expect(more).toEqual([]);
    expect(entry).toMatchObject({
      hostingNetwork: A,
      kind: "LB",
      state: "APPLIED",
      publicAddress: "192.0.2.1",
      privateAddress: "10.10.0.2",
      ports: [{ port: 80, proto: "tcp" }],
      backend: { name: t.world.service.slug, server: "map-a" },
      dns: { name: NAME },
      // The owner's segment, as the sim edge reaches it: VLAN 1 of its trunk.
      segment: "vlan:1",
    });
    // The edge really holds it: a ready server in the backend, the address mapped to it.
    const edge = edges.of(A)!;
    expect(await edges.driver.servers(edge, t.world.service.slug)).toMatchObject([
      { server: "map-a", address: "10.10.0.2", port: 80, admin: "ready" },
    ]);
    expect(await edges.driver.vips(edge)).toEqual([{ key: "192.0.2.1", value: t.world.service.slug }]);

    for (const place of [NEW_YORK, PARIS]) {
      const r = await resolveFrom(place);
      expect(r.ttl).toBeLessThanOrEqual(30);
      expect(r.answers).toMatchObject([{ address: "192.0.2.1", vm: "map-a", hostingNetwork: A }]);
    }
    if (hasDig) expect(await digTcp()).toEqual(["192.0.2.1"]);
  });

  it("refuses a port the service does not declare at the edge, and lets the declared one through", async () => {
    expect(await json("net", "probe", "192.0.2.1", "80")).toMatchObject({
      verdict: "accept",
      chain: "input",
      hostingNetwork: A,
      edge: `${A}-edge`,
    });
    expect(await json("net", "probe", "192.0.2.1", "443")).toMatchObject({
      verdict: "drop",
      rule: 'ip daddr 192.0.2.0/28 drop comment "default deny"',
    });
    expect(await json("net", "probe", "192.0.2.1", "80", "--proto", "udp")).toMatchObject({ verdict: "drop" });
    const line = await cli("net", "probe", "192.0.2.1", "443");
    expect(line.stdout.trim()).toBe(
      `192.0.2.1:443/tcp at edge ${A}-edge (${A}): dropped by ip daddr 192.0.2.0/28 drop comment "default deny"`,
    );
  });

  it("once B runs it too: a client near A is answered A's address, a client near B B's, TTL ≤ 30", async () => {
    const op = await json<{ state: string }>("vm", "activate", "map-b", "--host", "ops-prod-b", "--wait");
    expect(op.state).toBe("SUCCEEDED");
    expect(await json("net", "show", "map-b")).toMatchObject([
      { hostingNetwork: B, publicAddress: "198.51.100.1", backend: { server: "map-b" } },
    ]);
    const nearA = await resolveFrom(NEW_YORK);
    const nearB = await resolveFrom(PARIS);
    expect(nearA.answers).toMatchObject([{ address: "192.0.2.1", hostingNetwork: A }]);
    expect(nearB.answers).toMatchObject([{ address: "198.51.100.1", hostingNetwork: B }]);
    expect(Math.max(nearA.ttl, nearB.ttl)).toBeLessThanOrEqual(30);
    expect(await json("net", "probe", "198.51.100.1", "80")).toMatchObject({ verdict: "accept", hostingNetwork: B });
    if (hasDig) expect(await digTcp()).toEqual(["192.0.2.1", "198.51.100.1"]);
  });

  it("names what is wrong with a probe in one line and exits non-zero", async () => {
    const badPort = await cli("net", "probe", "192.0.2.1", "99999");
    expect(badPort.code).toBe(1);
    expect(badPort.stderr).toMatch(/^vmatrix: PORT must be a number from 1 to 65535$/m);
    const outside = await cli("net", "probe", "203.0.113.9", "80");
    expect(outside.code).toBe(1);
    expect(outside.stderr).toMatch(/^vmatrix: 203\.0\.113\.9 is in no hosting network's public address pool$/m);
    const badProto = await cli("net", "probe", "192.0.2.1", "80", "--proto", "icmp");
    expect(badProto.stderr).toMatch(/--proto must be tcp or udp/);
  });
});
