import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LabManifest } from "../manifest";
import { SshHostDriver, type HostTarget } from "../../server/hosts/driver";
import {
  CommandAbortedError,
  HostKeyMismatchError,
  HostUnreachableError,
  InvalidArgumentError,
  TransferBusyError,
  TransferError,
  TransferNoSpaceError,
  TransferTargetExistsError,
  VirshError,
} from "../../server/hosts/errors";
import { probeHostKey } from "../../server/hosts/ssh-transport";
import type { TransferProgress } from "../../server/hosts/transfer";
import { manifestGuest, type GuestFixture } from "./guest";
import { labHostTarget } from "./targets";

export interface ContractOptions {
  /** Shown in test names, e.g. "sim" or "libvirt". */
  label: string;
  /** How to make the test guest; default: from the manifest's `guest` record. */
  guest?: GuestFixture;
  /**
   * Leaves only `freeBytes` free on a host's VM filesystem and returns an undo. Without
   * it the mid-copy full-disk case is skipped (the free-space check is still tested).
   */
  limitDisk?: (hostName: string, freeBytes: number) => Promise<() => Promise<void>>;
  /** Size of the file used for the interrupted-transfer case (default 64 MiB). */
  largeFileBytes?: number;
  /** Timeout for each lifecycle step on a slow hypervisor (default 120 s per test). */
  testTimeoutMs?: number;
}

const EVIL_NAMES = [
  "x; rm -rf /",
  "$(touch pwned)",
  "`id`",
  "a\nb",
  "../etc",
  "UPPER",
  "-all",
  "x'y",
  "a b",
  "",
  "a".repeat(64),
];
const EVIL_PATHS = ["../x", "/etc/passwd", "a/../../b", "a\nb", "x\0y", "a//b", ".", "a/./b", "back\\slash"];
/** Every shell metacharacter, legal in a file name: must arrive literally, never run. */
const METACHAR_NAME = `a;b $(c) \`d\` 'e' "f" |g& >h <i *j ?k {l} ~m #n !o.img`;

/**
 * The driver + transfer contract: every lab (sim, libvirt) must pass it unchanged,
 * through the real driver over real SSH. Needs at least two hosts in the manifest.
 */
export function defineDriverContract(getManifest: () => Promise<LabManifest>, opts: ContractOptions): void {
  const timeout = opts.testTimeoutMs ?? 120_000;
  const guest = opts.guest ?? manifestGuest;
  const run = randomBytes(3).toString("hex");
  let manifest: LabManifest;
  let driver: SshHostDriver;
  let a: HostTarget;
  let b: HostTarget;
  const vms: string[] = [];
  const files: [HostTarget, string][] = [];

  const vm = () => {
    const name = `ct-${run}-${vms.length}`;
    vms.push(name);
    return name;
  };
  const track = (host: HostTarget, path: string) => {
    files.push([host, path]);
    return path;
  };
  const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");
  async function defineGuest(host: HostTarget, name: string, uuid = randomUUID()): Promise<string> {
    for (const f of await guest.createFiles({ driver, host, name, manifest })) track(host, f);
    track(host, `${name}.xml`);
    await driver.define(host, name, guest.domainXml({ host, name, uuid, manifest }));
    return uuid;
  }
  async function waitFor<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
    const until = Date.now() + ms;
    for (;;) {
      const v = await probe();
      if (ok(v)) return v;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(v)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  describe(`driver contract (${opts.label} lab)`, () => {
    beforeAll(async () => {
      manifest = await getManifest();
      if (manifest.hosts.length < 2) throw new Error("the contract needs a lab with at least two hosts");
      [a, b] = manifest.hosts.slice(0, 2).map(labHostTarget) as [HostTarget, HostTarget];
      driver = new SshHostDriver({ connectTimeoutMs: 10_000 });
    });

    afterAll(async () => {
      if (!driver) return;
      for (const host of [a, b]) {
        for (const name of vms) {
          await driver.destroy(host, name).catch(() => undefined);
          await driver.undefine(host, name).catch(() => undefined);
        }
      }
      for (const [host, path] of files) {
        await driver.removeFile(host, path).catch(() => undefined);
        await driver.removeFile(host, `${path}.part`).catch(() => undefined);
      }
      await driver.close();
    });

    it("probes a host: hypervisor, CPUs, memory, free disk, its owner segments' bridges and the pinned key", async () => {
      const facts = await driver.probe(a);
      // Both labs give every host the bridges of owner segments 1–4 (vmxs1…vmxs4), and
      // other bridges (libvirt's virbr0) are no segments.
      expect(facts.segments.slice(0, 4)).toEqual([1, 2, 3, 4]);
      expect(facts.segments).toEqual([...facts.segments].sort((x, y) => x - y));
      expect(facts.hostKeyFingerprint).toBe(manifest.hosts[0]!.hostKeyFingerprint);
      expect(facts.libvirtVersion).toMatch(/^\d+\.\d+\.\d+$/);
      expect(facts.hypervisor).toBe("QEMU");
      expect(facts.cpus).toBeGreaterThan(0);
      expect(facts.memoryKiB).toBeGreaterThan(0);
      expect(facts.disk.availableBytes).toBeGreaterThan(0);
      expect(facts.disk.sizeBytes).toBeGreaterThanOrEqual(facts.disk.availableBytes);
      const probed = await probeHostKey(a.address, a.port);
      expect(probed.fingerprint).toBe(a.hostKeyFingerprint);
    });

    it(
      "runs the lifecycle: define, start, list, domstats, suspend, resume, save, restore, destroy, undefine",
      async () => {
        const name = vm();
        await defineGuest(a, name);
        expect(await driver.domainState(a, name)).toEqual({ state: "shut off", reason: expect.any(String) });
        expect((await driver.listDomains(a)).find((d) => d.name === name)).toEqual({
          id: null,
          name,
          state: "shut off",
        });
        // Inactive: no live memory figures (libvirt may still show the CPU time of a past run).
        const off = await driver.domainStats(a, name);
        expect(off.balloonMaximumKiB).toBeGreaterThan(0);
        expect(off.balloonRssKiB).toBeNull();

        await driver.start(a, name);
        expect(await driver.domainState(a, name)).toEqual({ state: "running", reason: "booted" });
        const listed = (await driver.listDomains(a)).find((d) => d.name === name);
        expect(listed?.state).toBe("running");
        expect(listed?.id).toBeGreaterThan(0);
        await expect(driver.start(a, name)).rejects.toMatchObject({ name: "VirshError", kind: "already-active" });

        const first = await waitFor(
          "cpu time",
          () => driver.domainStats(a, name),
          (s) => (s.cpuTimeNs ?? 0) > 0,
        );
        const later = await waitFor(
          "cpu time to grow",
          () => driver.domainStats(a, name),
          (s) => s.cpuTimeNs! > first.cpuTimeNs!,
        );
        expect(later.balloonCurrentKiB).toBeGreaterThan(0);
        expect(later.balloonRssKiB).toBeGreaterThan(0);
        await expect(driver.resume(a, name)).rejects.toMatchObject({ name: "VirshError", kind: "already-active" });

        await driver.suspend(a, name);
        expect(await driver.domainState(a, name)).toEqual({ state: "paused", reason: "user" });
        await driver.resume(a, name);
        expect(await driver.domainState(a, name)).toEqual({ state: "running", reason: "unpaused" });

        const state = track(a, `${name}.state`);
        expect(await driver.save(a, name, state)).toBe(`${a.vmDir}/${state}`);
        expect(await driver.domainState(a, name)).toEqual({ state: "shut off", reason: "saved" });
        expect(await driver.fileSize(a, state)).toBeGreaterThan(0);
        await driver.restore(a, state);
        expect(await driver.domainState(a, name)).toEqual({ state: "running", reason: "restored" });

        await driver.destroy(a, name);
        expect(await driver.domainState(a, name)).toEqual({ state: "shut off", reason: "destroyed" });
        await expect(driver.destroy(a, name)).rejects.toMatchObject({ name: "VirshError", kind: "not-running" });
        await driver.undefine(a, name);
        expect((await driver.listDomains(a)).some((d) => d.name === name)).toBe(false);
        const gone = await driver.domainState(a, name).catch((e: unknown) => e);
        expect(gone).toBeInstanceOf(VirshError);
        expect(gone).toMatchObject({ kind: "domain-not-found", host: a.name });
      },
      timeout,
    );

    it(
      "moves a saved guest to another host as in thesis §3.3 (save, copy disk + state, define, restore)",
      async () => {
        const name = vm();
        const uuid = await defineGuest(a, name);
        await driver.start(a, name);
        const state = track(a, `${name}.state`);
        await driver.save(a, name, state);
        const moved = await driver.transferMany(
          a,
          b,
          [`${name}.img`, state].map((f) => ({ sourcePath: f, targetPath: track(b, f) })),
        );
        for (const [i, f] of [`${name}.img`, state].entries()) expect(moved[i]!.sha256).toBe(await driver.sha256(a, f));
        track(b, `${name}.xml`);
        await driver.define(b, name, guest.domainXml({ host: b, name, uuid, manifest }));
        await driver.restore(b, state, { xmlPath: `${name}.xml` });
        expect(await driver.domainState(b, name)).toEqual({ state: "running", reason: "restored" });
        await driver.destroy(b, name);
        await driver.undefine(a, name);
      },
      timeout,
    );

    it(
      "transfers host to host with progress, a verified checksum and nothing at the final name before",
      async () => {
        const data = randomBytes(24 * 1024 * 1024 + 123);
        const src = track(a, `ct-${run}-t1.bin`);
        const dst = track(b, `ct-${run}-t1.bin`);
        await driver.writeSmallFile(a, src, data);
        const events: TransferProgress[] = [];
        const r = await driver.transfer(
          a,
          b,
          { sourcePath: src, targetPath: dst },
          { progressIntervalMs: 50, onProgress: (p) => events.push(p) },
        );
        expect(r).toMatchObject({
          bytes: data.length,
          sha256: sha(data),
          bytesCopied: data.length,
          resumedFrom: 0,
          alreadyPresent: false,
        });
        expect(await driver.sha256(b, dst)).toBe(sha(data));
        expect(await driver.fileSize(b, `${dst}.part`)).toBeNull();

        const phases = events.map((e) => e.phase);
        expect(phases[0]).toBe("checking");
        expect(phases).toContain("copying");
        expect(phases).toContain("verifying");
        expect(events.at(-1)).toMatchObject({ phase: "done", percent: 100, bytesDone: data.length });
        const copying = events.filter((e) => e.phase === "copying");
        for (let i = 1; i < copying.length; i++)
          expect(copying[i]!.bytesDone).toBeGreaterThanOrEqual(copying[i - 1]!.bytesDone);
        for (const e of events) expect(e.percent).toBeGreaterThanOrEqual(0);

        // Idempotent: the same file again is recognised, not copied.
        expect(await driver.transfer(a, b, { sourcePath: src, targetPath: dst })).toMatchObject({
          alreadyPresent: true,
          bytesCopied: 0,
        });
        // A different file under that name is never overwritten.
        const other = track(a, `ct-${run}-t1-other.bin`);
        await driver.writeSmallFile(a, other, randomBytes(1000));
        await expect(driver.transfer(a, b, { sourcePath: other, targetPath: dst })).rejects.toBeInstanceOf(
          TransferTargetExistsError,
        );
        expect(await driver.sha256(b, dst)).toBe(sha(data));
      },
      timeout,
    );

    it(
      "resumes an interrupted transfer from its partial file, and restarts cleanly when that is corrupt",
      async () => {
        const data = randomBytes(8 * 1024 * 1024);
        const src = track(a, `ct-${run}-r1.bin`);
        const dst = track(b, `ct-${run}-r1.bin`);
        await driver.writeSmallFile(a, src, data);
        const cut = Math.floor(data.length * 0.4);

        // What an interrupted copy leaves behind: a prefix in <target>.part.
        await driver.writeSmallFile(b, `${dst}.part`, data.subarray(0, cut));
        const resumed = await driver.transfer(a, b, { sourcePath: src, targetPath: dst });
        expect(resumed).toMatchObject({
          resumedFrom: cut,
          bytesCopied: data.length - cut,
          restarted: false,
          sha256: sha(data),
        });
        expect(await driver.sha256(b, dst)).toBe(sha(data));
        await driver.removeFile(b, dst);

        // A partial file that is not a prefix of the source fails the checksum: start over.
        await driver.writeSmallFile(b, `${dst}.part`, randomBytes(cut));
        const restarted = await driver.transfer(a, b, { sourcePath: src, targetPath: dst });
        expect(restarted).toMatchObject({ restarted: true, sha256: sha(data) });
        expect(await driver.sha256(b, dst)).toBe(sha(data));
      },
      timeout,
    );

    it(
      "can be aborted mid-copy (nothing at the final name) and then resumes",
      async () => {
        const size = opts.largeFileBytes ?? 64 * 1024 * 1024;
        const src = track(a, `ct-${run}-big.bin`);
        const dst = track(b, `ct-${run}-big.bin`);
        // Sparse on the source (zeros read back), a real file of `size` bytes on the target.
        await driver.transport.run(a, ["truncate", "-s", String(size), "--", `${a.vmDir}/${src}`]);
        const abort = new AbortController();
        let partial = 0;
        const first = await driver
          .transfer(
            a,
            b,
            { sourcePath: src, targetPath: dst },
            {
              signal: abort.signal,
              progressIntervalMs: 25,
              onProgress: (p) => {
                if (p.phase === "copying" && p.bytesDone > 0 && p.bytesDone < size && !abort.signal.aborted) {
                  partial = p.bytesDone;
                  abort.abort();
                }
              },
            },
          )
          .catch((e: unknown) => e);
        if (!(first instanceof Error)) {
          // The lab copied faster than progress could be seen: the contract still holds.
          expect(first).toMatchObject({ bytes: size });
          return;
        }
        expect(first).toBeInstanceOf(CommandAbortedError);
        expect(partial).toBeGreaterThan(0);
        expect(await driver.fileSize(b, dst)).toBeNull();
        const left = await driver.fileSize(b, `${dst}.part`);
        expect(left).not.toBeNull();
        // The killed writer on the target may still hold the partial file for a moment:
        // the transfer says so (TransferBusyError) and the caller tries again.
        const again = await waitFor(
          "the resumed transfer",
          () => driver.transfer(a, b, { sourcePath: src, targetPath: dst }).catch((e: unknown) => e as Error),
          (r) => !(r instanceof TransferBusyError),
          10_000,
        );
        if (again instanceof Error) throw again;
        expect(again, JSON.stringify({ partial, left })).toMatchObject({ restarted: false, bytes: size });
        expect(again.resumedFrom).toBeGreaterThan(0);
        expect(again.sha256).toBe(await driver.sha256(a, src));
      },
      timeout,
    );

    it(
      "moves several files in one session, each verified: new, empty, already there, and an optional absent one",
      async () => {
        const datas = [randomBytes(3 * 1024 * 1024 + 7), randomBytes(100), Buffer.alloc(0), randomBytes(5000)];
        const srcs = datas.map((_, i) => track(a, `ct-${run}-m${i}.bin`));
        const dsts = datas.map((_, i) => track(b, `ct-${run}-m${i}.bin`));
        for (const [i, d] of datas.entries()) await driver.writeSmallFile(a, srcs[i]!, d);
        await driver.writeSmallFile(b, dsts[3]!, datas[3]!);
        const absent = track(b, `ct-${run}-m-absent.bin`);
        const events: TransferProgress[] = [];
        const rs = await driver.transferMany(
          a,
          b,
          [
            { sourcePath: srcs[0]!, targetPath: dsts[0]! },
            { sourcePath: srcs[1]!, targetPath: dsts[1]! },
            { sourcePath: `ct-${run}-m-absent.bin`, targetPath: absent, optional: true },
            { sourcePath: srcs[2]!, targetPath: dsts[2]! },
            { sourcePath: srcs[3]!, targetPath: dsts[3]! },
          ],
          { progressIntervalMs: 50, onProgress: (p) => events.push(p) },
        );
        expect(rs).toMatchObject([
          {
            targetPath: `${b.vmDir}/${dsts[0]}`,
            bytes: datas[0]!.length,
            sha256: sha(datas[0]!),
            bytesCopied: datas[0]!.length,
            alreadyPresent: false,
          },
          { bytes: 100, sha256: sha(datas[1]!), bytesCopied: 100, alreadyPresent: false },
          null,
          { bytes: 0, sha256: sha(datas[2]!), bytesCopied: 0, alreadyPresent: false },
          { bytes: 5000, sha256: sha(datas[3]!), bytesCopied: 0, alreadyPresent: true },
        ]);
        for (const [i, d] of datas.entries()) {
          expect((await driver.readSmallFile(b, dsts[i]!, 8 * 1024 * 1024)).equals(d)).toBe(true);
          expect(await driver.fileSize(b, `${dsts[i]}.part`)).toBeNull();
        }
        expect(await driver.fileSize(b, absent)).toBeNull();
        expect(events[0]!.phase).toBe("checking");
        expect(events.at(-1)).toMatchObject({
          phase: "done",
          percent: 100,
          bytesDone: datas.reduce((n, d) => n + d.length, 0),
        });
        expect(events.at(-1)!.files.map((f) => f?.bytesDone ?? null)).toEqual([datas[0]!.length, 100, null, 0, 5000]);
      },
      timeout,
    );

    it(
      "places nothing of a batch when one target already holds other content or a source is missing",
      async () => {
        const data = randomBytes(64 * 1024);
        const src = track(a, `ct-${run}-x0.bin`);
        const dst = track(b, `ct-${run}-x0.bin`);
        const taken = track(b, `ct-${run}-x1.bin`);
        await driver.writeSmallFile(a, src, data);
        await driver.writeSmallFile(b, taken, "someone else's file");
        const requests = [
          { sourcePath: src, targetPath: dst },
          { sourcePath: src, targetPath: taken },
        ];
        await expect(driver.transferMany(a, b, requests)).rejects.toBeInstanceOf(TransferTargetExistsError);
        const missing = driver.transferMany(a, b, [
          requests[0]!,
          { sourcePath: `ct-${run}-x-none.bin`, targetPath: track(b, `ct-${run}-x2.bin`) },
        ]);
        await expect(missing).rejects.toThrow(/does not exist/);
        for (const f of [dst, `${dst}.part`, `ct-${run}-x2.bin`]) expect(await driver.fileSize(b, f)).toBeNull();
        expect((await driver.readSmallFile(b, taken)).toString()).toBe("someone else's file");
        await expect(driver.transferMany(a, b, [requests[0]!, requests[0]!])).rejects.toMatchObject({
          name: "InvalidArgumentError",
          field: "targetPath",
        });
      },
      timeout,
    );

    it(
      "resumes the largest partial file of a batch, sends the others whole, restarts one that does not verify",
      async () => {
        const big = randomBytes(4 * 1024 * 1024);
        const small = randomBytes(2 * 1024 * 1024);
        const [bigSrc, smallSrc] = [track(a, `ct-${run}-rb.bin`), track(a, `ct-${run}-rs.bin`)];
        const [bigDst, smallDst] = [track(b, `ct-${run}-rb.bin`), track(b, `ct-${run}-rs.bin`)];
        await driver.writeSmallFile(a, bigSrc, big);
        await driver.writeSmallFile(a, smallSrc, small);
        const requests = [
          { sourcePath: smallSrc, targetPath: smallDst },
          { sourcePath: bigSrc, targetPath: bigDst },
        ];
        const cutBig = 1536 * 1024;
        await driver.writeSmallFile(b, `${bigDst}.part`, big.subarray(0, cutBig));
        await driver.writeSmallFile(b, `${smallDst}.part`, small.subarray(0, 1024 * 1024));
        const first = await driver.transferMany(a, b, requests);
        expect(first).toMatchObject([
          { resumedFrom: 0, bytesCopied: small.length, restarted: false, sha256: sha(small) },
          { resumedFrom: cutBig, bytesCopied: big.length - cutBig, restarted: false, sha256: sha(big) },
        ]);
        for (const f of [bigDst, smallDst]) await driver.removeFile(b, f);

        // The kept part of the big file is not a prefix of it: that file starts over.
        await driver.writeSmallFile(b, `${bigDst}.part`, randomBytes(cutBig));
        const second = await driver.transferMany(a, b, requests);
        expect(second).toMatchObject([
          { restarted: false, sha256: sha(small) },
          { restarted: true, resumedFrom: 0, sha256: sha(big) },
        ]);
        expect(await driver.sha256(b, bigDst)).toBe(sha(big));
        expect(await driver.sha256(b, smallDst)).toBe(sha(small));
        expect(await driver.fileSize(b, `${bigDst}.part`)).toBeNull();
      },
      timeout,
    );

    it(
      "refuses a transfer that cannot fit on the target disk, before copying anything",
      async () => {
        const { availableBytes } = await driver.diskSpace(b);
        const src = track(a, `ct-${run}-huge.bin`);
        const dst = track(b, `ct-${run}-huge.bin`);
        // Sparse on the source: large to the target's eyes, free to create.
        await driver.transport.run(a, [
          "truncate",
          "-s",
          String(availableBytes + 1024 ** 3),
          "--",
          `${a.vmDir}/${src}`,
        ]);
        const err = await driver.transfer(a, b, { sourcePath: src, targetPath: dst }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TransferNoSpaceError);
        expect(err).toMatchObject({ host: b.name, neededBytes: availableBytes + 1024 ** 3 });
        expect((err as Error).message).toMatch(/not enough free disk/);
        expect(await driver.fileSize(b, dst)).toBeNull();
        expect(await driver.fileSize(b, `${dst}.part`)).toBeNull();
      },
      timeout,
    );

    it.skipIf(!opts.limitDisk)(
      "reports a disk that fills up during the copy, removes the partial file, leaves no final file",
      async () => {
        const size = 8 * 1024 * 1024;
        const pairs = [1, 2].map((i) => {
          const data = randomBytes(size);
          return { data, src: track(a, `ct-${run}-full${i}.bin`), dst: track(b, `ct-${run}-full${i}.bin`) };
        });
        for (const p of pairs) await driver.writeSmallFile(a, p.src, p.data);
        // Room for one and a half: each passes the free-space check, together they cannot fit.
        const undo = await opts.limitDisk!(b.name, size * 1.5);
        try {
          const outcomes = await Promise.all(
            pairs.map((p) => driver.transfer(a, b, { sourcePath: p.src, targetPath: p.dst }).catch((e: unknown) => e)),
          );
          expect(outcomes.some((o) => o instanceof TransferNoSpaceError)).toBe(true);
          for (const [i, o] of outcomes.entries()) {
            const p = pairs[i]!;
            if (o instanceof TransferNoSpaceError) {
              expect(o.message).toMatch(/no space left on device/);
              expect(await driver.fileSize(b, p.dst)).toBeNull();
              expect(await driver.fileSize(b, `${p.dst}.part`)).toBeNull();
            } else {
              expect(o).toMatchObject({ sha256: sha(p.data) });
              expect(await driver.sha256(b, p.dst)).toBe(sha(p.data));
            }
          }
        } finally {
          await undo();
        }
      },
      timeout,
    );

    it("refuses a host whose key differs from the pinned one, with both fingerprints", async () => {
      const wrong = new SshHostDriver({ connectTimeoutMs: 5000 });
      try {
        const impostor = { ...a, hostKeyFingerprint: b.hostKeyFingerprint };
        const err = await wrong.listDomains(impostor).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(HostKeyMismatchError);
        expect(err).toMatchObject({ host: a.name, expected: b.hostKeyFingerprint, presented: a.hostKeyFingerprint });
        // Still refused on the next attempt: an unknown key is never accepted.
        await expect(wrong.probe(impostor)).rejects.toBeInstanceOf(HostKeyMismatchError);
      } finally {
        await wrong.close();
      }
    });

    it("keeps the target's key pinned on the host-to-host hop: a different key there is refused", async () => {
      const data = randomBytes(1000);
      const src = track(a, `ct-${run}-pin.bin`);
      const dst = track(b, `ct-${run}-pin.bin`);
      await driver.writeSmallFile(a, src, data);
      // The oracle vouches for B's key, but the source is sent to an address where another
      // host (A itself) answers: its ssh must refuse, as a man in the middle would be refused.
      const impostor = { ...b, peer: { address: a.address, port: a.port, user: a.user } };
      const err = await driver.transfer(a, impostor, { sourcePath: src, targetPath: dst }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransferError);
      expect((err as Error).message).toMatch(/refused the host key of/);
      expect(await driver.fileSize(b, dst)).toBeNull();
      expect(await driver.fileSize(b, `${dst}.part`)).toBeNull();
    });

    it("offers ciphers on the host-to-host hop as OpenSSH does: a list that names an unknown one is refused", async () => {
      const hop = (ciphers: string) =>
        driver.transport.exec(a, [
          "env",
          "LC_ALL=C",
          "ssh",
          "-T",
          "-c",
          ciphers,
          "-o",
          "BatchMode=yes",
          "-o",
          "StrictHostKeyChecking=no",
          "-p",
          String(b.port),
          "-l",
          b.user,
          "--",
          b.address,
          "true",
        ]);
      const refused = await hop("aes128-gcm@openssh.com,rot13");
      expect(refused.exitCode).toBe(255);
      expect(refused.stderr).toContain("Unknown cipher type 'aes128-gcm@openssh.com,rot13'");
    });

    it("reports an unreachable host clearly within the connect timeout", async () => {
      const quick = new SshHostDriver({ connectTimeoutMs: 1500 });
      const silent = await silentServer();
      try {
        const closedPort = await freePort();
        let started = Date.now();
        const refused = await quick
          .listDomains({ ...a, name: "gone", address: "127.0.0.1", port: closedPort })
          .catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(HostUnreachableError);
        expect(refused).toMatchObject({ host: "gone", reason: "ECONNREFUSED" });
        expect(Date.now() - started).toBeLessThan(1500);

        started = Date.now();
        const mute = await quick
          .listDomains({ ...a, name: "mute", address: "127.0.0.1", port: silent.port })
          .catch((e: unknown) => e);
        expect(mute).toBeInstanceOf(HostUnreachableError);
        expect((mute as Error).message).toMatch(/no SSH handshake within 1500 ms/);
        expect(Date.now() - started).toBeLessThan(1500 + 1000);
      } finally {
        silent.server.close();
        await quick.close();
      }
    });

    it("refuses injection attempts in names, paths and addresses before sending anything", async () => {
      const nameCalls: [string, (n: string) => Promise<unknown>][] = [
        ["start", (n) => driver.start(a, n)],
        ["shutdown", (n) => driver.shutdown(a, n)],
        ["destroy", (n) => driver.destroy(a, n)],
        ["suspend", (n) => driver.suspend(a, n)],
        ["resume", (n) => driver.resume(a, n)],
        ["undefine", (n) => driver.undefine(a, n)],
        ["domainState", (n) => driver.domainState(a, n)],
        ["domainStats", (n) => driver.domainStats(a, n)],
        ["save", (n) => driver.save(a, n)],
        ["define", (n) => driver.define(a, n, `<domain type='qemu'><name>${n}</name></domain>`)],
      ];
      for (const [, call] of nameCalls) {
        for (const evil of EVIL_NAMES) {
          await expect(call(evil)).rejects.toMatchObject({ name: "InvalidArgumentError", field: "vmName" });
        }
      }
      const pathCalls: [string, (p: string) => Promise<unknown>][] = [
        ["path", (p) => driver.fileSize(a, p)],
        ["path", (p) => driver.sha256(a, p)],
        ["path", (p) => driver.removeFile(a, p)],
        ["path", (p) => driver.writeSmallFile(a, p, "x")],
        ["path", (p) => driver.readSmallFile(a, p)],
        ["statePath", (p) => driver.restore(a, p)],
        ["statePath", (p) => driver.save(a, "ok-name", p)],
        ["xmlPath", (p) => driver.restore(a, "ok.state", { xmlPath: p })],
        ["sourcePath", (p) => driver.transfer(a, b, { sourcePath: p, targetPath: "ok.bin" })],
        ["targetPath", (p) => driver.transfer(a, b, { sourcePath: "ok.bin", targetPath: p })],
      ];
      for (const [field, call] of pathCalls) {
        for (const evil of [...EVIL_PATHS, `${a.vmDir}/../x`]) {
          const err = await call(evil).catch((e: unknown) => e);
          expect(err, `${field} ${JSON.stringify(evil)}`).toBeInstanceOf(InvalidArgumentError);
          expect(err).toMatchObject({ field });
        }
      }
      for (const evil of ["127.0.0.1; rm -rf /", "$(id)", "-f", "a b", "1.2.3.4\n"]) {
        await expect(driver.ping(a, evil)).rejects.toMatchObject({ name: "InvalidArgumentError", field: "address" });
      }
      await expect(
        driver.define(a, "ok-name", "<domain type='qemu'><name>$(id)</name></domain>"),
      ).rejects.toMatchObject({ field: "domainXml" });
    });

    it("passes shell metacharacters in file names through literally, end to end", async () => {
      const data = randomBytes(4096);
      const src = track(a, METACHAR_NAME);
      const dst = track(b, METACHAR_NAME);
      await driver.writeSmallFile(a, src, data);
      expect(await driver.fileSize(a, src)).toBe(data.length);
      expect(await driver.sha256(a, src)).toBe(sha(data));
      const r = await driver.transfer(a, b, { sourcePath: src, targetPath: dst });
      expect(r.sha256).toBe(sha(data));
      expect((await driver.readSmallFile(b, dst)).equals(data)).toBe(true);
      // The transport quotes raw argv too: this names one odd file, it does not run `touch`.
      const stat = await driver.transport.exec(a, ["stat", "-c", "%s", "--", `${a.vmDir}/$(touch pwned)`]);
      expect(stat.exitCode).toBe(1);
      expect(stat.stderr).toContain("$(touch pwned)");
      expect(await driver.fileSize(a, "pwned")).toBeNull();
    });

    it("measures round-trip time from a host with ping", async () => {
      const r = await driver.ping(a, b.address, 3);
      expect(r.transmitted).toBe(3);
      expect(r.received).toBeGreaterThan(0);
      expect(r.avgMs).toBeGreaterThanOrEqual(0);
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Accepts TCP connections and never says anything: an SSH port that hangs. */
function silentServer(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer(() => undefined);
    server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}
