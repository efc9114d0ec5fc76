import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LabManifest } from "../manifest";
import { SshHostDriver } from "../../server/hosts/driver";
import { defineDriverContract } from "./contract";
import { labHostTarget } from "./targets";
import {
  ensureLibvirtLab,
  libvirtLabDir,
  libvirtLabUnavailable,
  libvirtRequired,
  REQUIRE_ENV,
} from "../libvirt/readiness";
import { holdLibvirtLab } from "../libvirt/test-lease";
import { libvirtGuestAddress, libvirtGuestFixture, limitLibvirtDisk } from "../libvirt/contract-fixture";
import { fetchGuestStatus, labGuest, waitForGuestHttp } from "../libvirt/fixture";

/**
 * The driver contract against the real libvirt lab (lab/libvirt): OpenSSH sshds, one
 * libvirt session per host, guests that boot. The lab is brought up here if it is not
 * (as root on Linux; it may install Debian packages, minutes on a fresh machine) and left
 * running for the next run. Where it cannot run, the suite is skipped with the reason,
 * unless VMATRIX_REQUIRE_LIBVIRT=1 (CI): then a missing lab fails.
 */

const log = (line: string) => console.log(`[libvirt contract] ${line}`);

// Decided while collecting, so that "cannot run here" becomes a skip with its reason.
let manifest: LabManifest | undefined;
let unavailable = await libvirtLabUnavailable();
if (!unavailable) {
  try {
    manifest = await ensureLibvirtLab(log);
  } catch (e) {
    unavailable = `the libvirt lab under ${libvirtLabDir()} could not be brought up: ${(e as Error).message}`;
  }
}

if (!manifest) {
  const reason = unavailable ?? "unknown";
  if (libvirtRequired()) {
    describe("driver contract (libvirt lab)", () => {
      it(`runs against the libvirt lab (required by ${REQUIRE_ENV}=1)`, () => {
        throw new Error(`the libvirt lab is required (${REQUIRE_ENV}=1) but cannot run: ${reason}`);
      });
    });
  } else {
    log(`skipped: ${reason}`);
    describe.skip(`driver contract (libvirt lab): skipped, ${reason.split("\n")[0]}`, () => {
      it("needs the libvirt lab", () => undefined);
    });
  }
} else {
  const lab = manifest;
  // One libvirt suite at a time (lab/libvirt/test-lease.ts): this one fills host disks.
  let release: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    release = await holdLibvirtLab(libvirtLabDir(), "driver contract (libvirt lab)", log);
  }, 20 * 60_000);
  afterAll(async () => {
    await release?.();
  });
  defineDriverContract(async () => lab, {
    label: "libvirt",
    guest: libvirtGuestFixture,
    limitDisk: limitLibvirtDisk,
    testTimeoutMs: 180_000,
  });

  describe("libvirt lab: a moved guest resumes (thesis §3.3 through the product's driver)", () => {
    const driver = new SshHostDriver({ connectTimeoutMs: 10_000 });
    const from = lab.hosts.find((h) => h.role === "LOADING") ?? lab.hosts[0]!;
    const to = lab.hosts.find((h) => h.role === "PRODUCTION" && h !== from) ?? lab.hosts[1]!;
    const [a, b] = [labHostTarget(from), labHostTarget(to)];
    const name = `ct-move-${randomBytes(3).toString("hex")}`;
    const guest = labGuest(lab);
    const address = libvirtGuestAddress(lab, name);

    beforeAll(async () => {
      // Nothing left over from an earlier, interrupted run of this name.
      for (const h of [a, b]) await driver.destroy(h, name).catch(() => undefined);
    });

    afterAll(async () => {
      for (const h of [a, b]) {
        await driver.destroy(h, name).catch(() => undefined);
        await driver.undefine(h, name).catch(() => undefined);
        for (const f of [`${name}.img`, `${name}.state`, `${name}.xml`])
          await driver.removeFile(h, f).catch(() => undefined);
      }
      await driver.close();
    });

    it("answers HTTP on host B with the same boot id, a larger uptime and its request counter continued", async () => {
      const uuid = randomUUID();
      await libvirtGuestFixture.createFiles({ driver, host: a, name, manifest: lab });
      await driver.define(a, name, libvirtGuestFixture.domainXml({ host: a, name, uuid, manifest: lab }));
      await driver.start(a, name);
      const booted = await waitForGuestHttp(guest, address, 90_000);
      log(`${name} booted on ${a.name} in ${booted.seconds.toFixed(1)} s at ${address}`);
      const before = await fetchGuestStatus(guest, address);

      await driver.save(a, name);
      for (const f of [`${name}.img`, `${name}.state`]) {
        const r = await driver.transfer(a, b, { sourcePath: f, targetPath: f });
        expect(r.sha256).toBe(await driver.sha256(a, f));
      }
      await driver.define(b, name, libvirtGuestFixture.domainXml({ host: b, name, uuid, manifest: lab }));
      await driver.restore(b, `${name}.state`, { xmlPath: `${name}.xml` });
      await driver.undefine(a, name);
      expect(await driver.domainState(b, name)).toEqual({ state: "running", reason: "restored" });

      const after = (await waitForGuestHttp(guest, address, 30_000)).status;
      expect(after.bootId).toBe(before.bootId);
      expect(after.uptimeSeconds).toBeGreaterThan(before.uptimeSeconds);
      expect(after.requests).toBe(before.requests + 1);
      expect(after.diskLastBoot).toContain(before.bootId);
    }, 240_000);
  });
}
