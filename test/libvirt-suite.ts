import { afterAll, beforeAll, describe, it } from "vitest";
import type { LabManifest } from "../lab/manifest";
import {
  ensureLibvirtLab,
  libvirtLabDir,
  libvirtLabUnavailable,
  libvirtRequired,
  REQUIRE_ENV,
} from "../lab/libvirt/readiness";
import { holdLibvirtLab } from "../lab/libvirt/test-lease";

/**
 * For test files that need the libvirt lab: decided while collecting, like the driver
 * contract suite (lab/contract/libvirt.int.test.ts). The lab is brought up if it is not
 * (as root on Linux; it may install Debian packages). Where it cannot run, the suite is
 * skipped with the reason printed; with VMATRIX_REQUIRE_LIBVIRT=1 (CI) it fails instead.
 */
export async function libvirtLabForSuite(
  log: (line: string) => void,
): Promise<{ manifest: LabManifest } | { reason: string }> {
  const unavailable = await libvirtLabUnavailable();
  if (unavailable) return { reason: unavailable };
  try {
    return { manifest: await ensureLibvirtLab(log) };
  } catch (e) {
    return { reason: `the libvirt lab under ${libvirtLabDir()} could not be brought up: ${(e as Error).message}` };
  }
}

/**
 * `describe(title, body)` when the lab runs, holding the lab's test lease (one libvirt
 * suite at a time) around it; else a skip with the reason, or a failing test under
 * VMATRIX_REQUIRE_LIBVIRT=1.
 */
export function describeWithLibvirtLab(
  title: string,
  lab: { manifest: LabManifest } | { reason: string },
  log: (line: string) => void,
  body: (manifest: LabManifest) => void,
): void {
  if ("reason" in lab) {
    if (libvirtRequired()) {
      describe(title, () => {
        it(`runs against the libvirt lab (required by ${REQUIRE_ENV}=1)`, () => {
          throw new Error(`the libvirt lab is required (${REQUIRE_ENV}=1) but cannot run: ${lab.reason}`);
        });
      });
    } else {
      log(`skipped: ${lab.reason}`);
      describe.skip(`${title}: skipped, ${lab.reason.split("\n")[0]}`, () => {
        it("needs the libvirt lab", () => undefined);
      });
    }
    return;
  }
  describe(title, () => {
    let release: (() => Promise<void>) | undefined;
    beforeAll(async () => {
      release = await holdLibvirtLab(libvirtLabDir(), title, log);
    }, 20 * 60_000);
    afterAll(async () => {
      await release?.();
    });
    body(lab.manifest);
  });
}
