import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SshHostDriver } from "../../server/hosts/driver";
import { labHostTarget } from "../contract/targets";
import { simHostSpecs } from "./cities";
import { defaultAddress, startSimLab, type SimLab } from "./lab";

/**
 * One sim lab served by two processes (`lab:sim -- up --shard K/N`), here two labs on one
 * data folder: they share the oracle's key, and a host of one authorizes the hosts of the
 * other (the site-wide keys), so files move between them and pings find them.
 */
let dataDir: string;
let shards: SimLab[] = [];
const driver = new SshHostDriver({ connectTimeoutMs: 10_000 });

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "vmatrix-shards-"));
  const all = simHostSpecs(4).map((h, i) => ({ ...h, address: defaultAddress(i) }));
  const half = (k: number) => all.filter((_, i) => i % 2 === k);
  // Both at once, as two processes start: neither may make a key pair of its own for the oracle.
  shards = await Promise.all(
    [0, 1].map((k) =>
      startSimLab({
        dataDir,
        hosts: half(k),
        shard: { keysFile: `hosts-${k + 1}-of-2`, peers: half(1 - k) },
      }),
    ),
  );
});

afterAll(async () => {
  await driver.close();
  await Promise.all(shards.map((s) => s.stop()));
  await rm(dataDir, { recursive: true, force: true });
});

describe("a sharded sim lab", () => {
  it("shares the oracle's key: every host of both shards lets it in", async () => {
    const keys = new Set(shards.flatMap((s) => s.manifest.hosts.map((h) => h.privateKeyPath)));
    expect(keys.size).toBe(1);
    for (const h of shards.flatMap((s) => s.manifest.hosts))
      expect((await driver.version(labHostTarget(h))).libvirt).toBeTruthy();
  });

  it("moves a file from a host of one shard to a host of the other", async () => {
    const a = labHostTarget(shards[0]!.manifest.hosts[0]!);
    const b = labHostTarget(shards[1]!.manifest.hosts[0]!);
    const data = randomBytes(64 * 1024);
    await driver.writeSmallFile(a, `${a.vmDir}/across.bin`, data);
    const result = await driver.transfer(a, b, {
      sourcePath: `${a.vmDir}/across.bin`,
      targetPath: `${b.vmDir}/across.bin`,
    });
    expect(result.bytes).toBe(data.length);
    expect((await driver.readSmallFile(b, `${b.vmDir}/across.bin`)).equals(data)).toBe(true);
  });

  it("pings a host of the other shard by its address", async () => {
    const a = labHostTarget(shards[0]!.manifest.hosts[0]!);
    const b = shards[1]!.manifest.hosts[0]!;
    const ping = await driver.ping(a, b.sshHost, 2);
    expect(ping.received).toBe(2);
  });
});
