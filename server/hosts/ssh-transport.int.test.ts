import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ssh2 from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labHostTarget } from "../../lab/contract/targets";
import { startSimLab, type SimLab, type SimHostSpec } from "../../lab/sim/lab";
import type { HostTarget } from "./driver";
import {
  CommandAbortedError,
  CommandTimeoutError,
  HostAuthenticationError,
  HostError,
  HostUnreachableError,
} from "./errors";
import { probeHostKey, SshTransport } from "./ssh-transport";

/** The connection manager against a real SSH server (a sim host): what the contract does not cover. */

const SPEC: SimHostSpec = { name: "t-one", role: "PRODUCTION", city: "Paris", lat: 48.86, lon: 2.35 };
let dataDir: string;
let lab: SimLab;
let host: HostTarget;
const ping = (seconds: number) => [
  "ping",
  "-n",
  "-q",
  "-c",
  String(Math.round(seconds / 0.2) + 1),
  "-i",
  "0.2",
  "-W",
  "1",
  "--",
  "127.0.0.1",
];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "vmatrix-transport-"));
  lab = await startSimLab({ dataDir, hosts: [SPEC] });
  host = labHostTarget(lab.manifest.hosts[0]!);
});

afterAll(async () => {
  await lab.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe("SshTransport", () => {
  it("runs many commands over one connection, at most N at a time, the rest queued in order", async () => {
    const t = new SshTransport({ maxConcurrentPerHost: 3 });
    try {
      let maxRunning = 0;
      let sawQueue = false;
      const watch = setInterval(() => {
        const s = t.stats();
        maxRunning = Math.max(maxRunning, s.running);
        sawQueue ||= s.queued > 0;
      }, 10);
      const started = Date.now();
      const results = await Promise.all(Array.from({ length: 9 }, () => t.run(host, ping(0.2))));
      clearInterval(watch);
      expect(results.every((r) => r.exitCode === 0)).toBe(true);
      expect(maxRunning).toBe(3);
      expect(sawQueue).toBe(true);
      expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 200);
      expect(t.stats()).toMatchObject({ hosts: 1, connected: 1, running: 0, queued: 0 });
    } finally {
      await t.close();
    }
  });

  it("streams stdout and stderr to callbacks and reports the exit code", async () => {
    const t = new SshTransport();
    try {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const r = await t.exec(host, ["virsh", "domstate", "nope"], {
        onStdout: (c) => out.push(c),
        onStderr: (c) => err.push(c),
      });
      expect(r).toMatchObject({
        exitCode: 1,
        signal: null,
        stdout: "\n",
        stderr: "error: failed to get domain 'nope'\n",
        truncated: false,
      });
      expect(Buffer.concat(out).toString()).toBe(r.stdout);
      expect(Buffer.concat(err).toString()).toBe(r.stderr);
      const capped = await t.exec(host, ["virsh", "nodeinfo"], { maxOutputBytes: 10 });
      expect(capped).toMatchObject({ exitCode: 0, stdout: "CPU model:", truncated: true });
    } finally {
      await t.close();
    }
  });

  it("kills the remote command at the timeout (its lock is free right after)", async () => {
    const t = new SshTransport();
    const lock = `${host.vmDir}/t-lock`;
    try {
      const started = Date.now();
      const err = await t
        .exec(host, ["flock", "-n", "-E", "75", lock, ...ping(30)], { timeoutMs: 600 })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CommandTimeoutError);
      expect(err).toMatchObject({ host: host.name, timeoutMs: 600 });
      expect((err as Error).message).toMatch(/timed out after 600 ms and was killed: 'flock'/);
      expect(Date.now() - started).toBeLessThan(1500);
      // The killed flock no longer holds the lock.
      const again = await t.exec(host, ["flock", "-n", "-E", "75", lock, "stat", "-c", "%s", "--", lock], {
        timeoutMs: 2000,
      });
      expect(again.exitCode).toBe(0);
    } finally {
      await t.close();
    }
  });

  it("aborts a running command and one still waiting in the queue", async () => {
    const t = new SshTransport({ maxConcurrentPerHost: 1 });
    try {
      const abort = new AbortController();
      const running = t.exec(host, ping(10), { signal: abort.signal }).catch((e: unknown) => e);
      const queued = t.exec(host, ping(0.2), { timeoutMs: 300 }).catch((e: unknown) => e);
      expect(await queued).toBeInstanceOf(CommandTimeoutError);
      abort.abort();
      expect(await running).toBeInstanceOf(CommandAbortedError);
      expect((await t.exec(host, ["virsh", "version"])).exitCode).toBe(0);
    } finally {
      await t.close();
    }
  });

  it("reconnects after the host comes back, failing fast while it is down", async () => {
    const port = host.port;
    const t = new SshTransport({ backoffInitialMs: 300, backoffMaxMs: 1000, connectTimeoutMs: 2000 });
    try {
      expect((await t.exec(host, ["virsh", "version"])).exitCode).toBe(0);
      await lab.stop();
      // The dead connection is noticed, one fresh attempt is made, and refused.
      const lost = await t.exec(host, ["virsh", "version"]).catch((e: unknown) => e);
      expect(lost).toBeInstanceOf(HostUnreachableError);
      expect(lost).toMatchObject({ reason: "ECONNREFUSED" });
      const down = await t.exec(host, ["virsh", "version"]).catch((e: unknown) => e);
      expect(down).toBeInstanceOf(HostUnreachableError);
      const started = Date.now();
      const fast = await t.exec(host, ["virsh", "version"]).catch((e: unknown) => e);
      expect(fast).toBeInstanceOf(HostUnreachableError);
      expect(Date.now() - started).toBeLessThan(50);

      // Same data directory: same host key, so the pin still holds.
      lab = await startSimLab({ dataDir, hosts: [{ ...SPEC, sshPort: port, address: host.address }] });
      expect(lab.manifest.hosts[0]!.hostKeyFingerprint).toBe(host.hostKeyFingerprint);
      await new Promise((r) => setTimeout(r, 1300));
      expect((await t.exec(host, ["virsh", "version"])).exitCode).toBe(0);
    } finally {
      await t.close();
    }
  });

  it("reads and writes small files over SFTP", async () => {
    const t = new SshTransport();
    try {
      const path = `${host.vmDir}/t-sftp.txt`;
      await t.writeFile(host, path, "hello\n");
      expect((await t.readFile(host, path)).toString()).toBe("hello\n");
      await expect(t.readFile(host, path, { maxBytes: 3 })).rejects.toThrow(/6 bytes, more than the 3 allowed/);
      await expect(t.readFile(host, `${host.vmDir}/t-missing`)).rejects.toBeInstanceOf(HostError);
    } finally {
      await t.close();
    }
  });

  it("refuses a key the host does not authorize, and never logs key material", async () => {
    const logged: string[] = [];
    const log = {
      info: (o: object, m: string) => logged.push(JSON.stringify(o) + m),
      warn: (o: object, m: string) => logged.push(JSON.stringify(o) + m),
    };
    const t = new SshTransport({ log });
    const stranger = ssh2.utils.generateKeyPairSync("ed25519");
    try {
      const err = await t
        .exec({ ...host, privateKey: { key: Buffer.from(stranger.private) } }, ["virsh", "version"])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HostAuthenticationError);
      expect((err as Error).message).toBe(`host ${host.name}: public key for user vmatrix was refused`);
      await expect(t.exec({ ...host, privateKey: { path: "/nonexistent/key" } }, ["true"])).rejects.toThrow(
        "cannot read private key file /nonexistent/key (ENOENT)",
      );
      expect(logged.join("\n")).not.toContain("PRIVATE KEY");
    } finally {
      await t.close();
    }
  });

  it("fetches a host key without logging in", async () => {
    const key = await probeHostKey(host.address, host.port);
    expect(key).toMatchObject({ type: "ssh-ed25519", fingerprint: host.hostKeyFingerprint });
  });
});
