import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labHostTarget } from "../../lab/contract/targets";
import { startSimLab, type SimLab } from "../../lab/sim/lab";
import type { HostTarget } from "./driver";
import { CommandTimeoutError } from "./errors";
import { SshTransport } from "./ssh-transport";

/** The transport's connection limits against real SSH servers (three sim hosts). */

let dataDir: string;
let lab: SimLab;
let hosts: HostTarget[];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "vmatrix-pool-"));
  lab = await startSimLab({
    dataDir,
    hosts: ["p-a", "p-b", "p-c"].map((name) => ({ name, role: "PRODUCTION", city: "Paris", lat: 48.86, lon: 2.35 })),
  });
  hosts = lab.manifest.hosts.map(labHostTarget);
});

afterAll(async () => {
  await lab.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const version = (t: SshTransport, h: HostTarget) => t.run(h, ["virsh", "version"]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("SSH connection limits", () => {
  it("keeps at most maxConnections open: a third host closes the one idle the longest", async () => {
    const t = new SshTransport({ maxConnections: 2 });
    try {
      const [a, b, c] = hosts as [HostTarget, HostTarget, HostTarget];
      await version(t, a);
      await version(t, b);
      expect(t.stats()).toMatchObject({ connected: 2, pool: { open: 2, idle: 2 } });
      await version(t, c);
      await sleep(50);
      expect(t.stats()).toMatchObject({ connected: 2, pool: { open: 2, idle: 2, waiting: 0 } });
      // a, closed for c, connects again in the room of the one idle the longest.
      await version(t, a);
      await sleep(50);
      expect(t.stats()).toMatchObject({ connected: 2, pool: { open: 2 } });
    } finally {
      await t.close();
    }
  });

  it("never closes a connection that is running a command: the new one waits for it", async () => {
    const t = new SshTransport({ maxConnections: 1 });
    try {
      const [a, b] = hosts as [HostTarget, HostTarget];
      const started = Date.now();
      // 0.6 s of ping on a; b's command must wait for it, then take the room.
      const ping = t.run(a, ["ping", "-n", "-q", "-c", "4", "-i", "0.2", "-W", "1", "--", "127.0.0.1"]);
      await sleep(100);
      const onB = version(t, b).then(() => Date.now() - started);
      await sleep(50);
      expect(t.stats().pool.waiting).toBe(1);
      await ping;
      expect(await onB).toBeGreaterThanOrEqual(550);
      expect(t.stats()).toMatchObject({ connected: 1, pool: { open: 1, waiting: 0 } });
    } finally {
      await t.close();
    }
  });

  it("times a command out that finds no room before its timeout, without backing off its host", async () => {
    const t = new SshTransport({ maxConnections: 1 });
    try {
      const [a, b] = hosts as [HostTarget, HostTarget];
      const ping = t.run(a, ["ping", "-n", "-q", "-c", "6", "-i", "0.2", "-W", "1", "--", "127.0.0.1"]);
      await sleep(100);
      await expect(t.run(b, ["virsh", "version"], { timeoutMs: 300 })).rejects.toBeInstanceOf(CommandTimeoutError);
      await ping;
      // Waiting was not the host's failure: no backoff, b answers at once.
      await version(t, b);
    } finally {
      await t.close();
    }
  });

  it("closes connections idle for idleCloseMs and reconnects on the next command", async () => {
    const t = new SshTransport({ idleCloseMs: 300 });
    try {
      for (const h of hosts) await version(t, h);
      expect(t.stats()).toMatchObject({ connected: 3, pool: { open: 3 } });
      // Keeps one in use: only the other two are idle long enough.
      const deadline = Date.now() + 600;
      while (Date.now() < deadline) {
        await version(t, hosts[0]!);
        await sleep(50);
      }
      expect(t.stats()).toMatchObject({ connected: 1, pool: { open: 1, idle: 1 } });
      await version(t, hosts[1]!);
      expect(t.stats()).toMatchObject({ connected: 2, pool: { open: 2 } });
    } finally {
      await t.close();
    }
  });
});
