import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCallsOracle } from "../../test/calls-oracle";
import type { OpsLab } from "../../test/ops-lab";
import { withOpsLabAndWorker } from "../../test/ops-lab-hooks";
import { withCliApi } from "../../test/run-cli";

// `images …` as a script runs it: a separate process on the database of a sim lab, through the
// API server, whose image registration an oracle (a calls worker here) answers from the host.
let t: OpsLab;
withOpsLabAndWorker((lab) => (t = lab), { pollIntervalMs: 100 });
let oracle: Awaited<ReturnType<typeof startCallsOracle>> | undefined;
beforeAll(async () => {
  oracle = await startCallsOracle(t);
});
afterAll(() => oracle?.stop());
const { cli } = withCliApi(() => t);

const bytes = Buffer.alloc(128 * 1024, "vmatrix cli image ");
const sha256 = createHash("sha256").update(bytes).digest("hex");

describe("vmatrix images", () => {
  it("says there are none yet, then registers one from its file on a host and lists it", async () => {
    const empty = await cli("images", "list");
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toContain("No images yet");

    const nest = t.target("ops-nest");
    await t.driver.writeSmallFile(nest, `${nest.vmDir}/cli-v1.image`, bytes);
    const slug = t.world.service.slug;
    const r = await cli(
      "images",
      "register",
      "--service",
      slug,
      "--name",
      "cli-v1",
      "--host",
      "ops-nest",
      "--memory",
      "64",
      "--vcpus",
      "1",
      "--json",
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      name: "cli-v1",
      service: slug,
      host: "ops-nest",
      sizeBytes: String(bytes.length),
      sha256,
      memoryMiB: 64,
      vcpus: 1,
    });

    const list = await cli("images", "list", "--json", "--service", slug);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({ name: "cli-v1", host: "ops-nest", sizeBytes: String(bytes.length), sha256 }),
    ]);
    const text = await cli("images", "list");
    expect(text.stdout).toMatch(/^cli-v1 +\S+ +ops-nest +128 KiB +[0-9a-f]{12} +64 MiB, 1 vCPU$/m);
  });

  it("creates a VM from the image by name (vms create --image), copied to the Loading Chambers host", async () => {
    const r = await cli("vms", "create", "cli-vm-1", "--service", t.world.service.slug, "--image", "cli-v1", "--wait");
    expect(r.code, r.stderr).toBe(0);
    const op = JSON.parse(r.stdout) as { state: string; steps: { name: string; detail: string | null }[] };
    expect(op.state).toBe("SUCCEEDED");
    expect(op.steps.find((s) => s.name === "create disk")?.detail).toContain("image cli-v1 copied from ops-nest");
    const unknown = await cli("vms", "create", "cli-vm-2", "--service", t.world.service.slug, "--image", "nope-v1");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("vmatrix: --image: no image nope-v1 of that service");
  });

  it("names the missing or bad flag, and says the API's refusal in one line", async () => {
    const slug = t.world.service.slug;
    const missing = await cli(
      "images",
      "register",
      "--service",
      slug,
      "--name",
      "cli-v2",
      "--memory",
      "64",
      "--vcpus",
      "1",
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("vmatrix: --host: required, e.g. --host ashburn-load-1");
    const bad = await cli(
      "images",
      "register",
      "--service",
      slug,
      "--name",
      "cli-v2",
      "--host",
      "ops-nest",
      "--memory",
      "lots",
      "--vcpus",
      "1",
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("vmatrix: --memory: must be a number of MiB");
    const badName = await cli(
      "images",
      "register",
      "--service",
      slug,
      "--name",
      "Cli V2",
      "--host",
      "ops-nest",
      "--memory",
      "64",
      "--vcpus",
      "1",
    );
    expect(badName.stderr).toContain("vmatrix: --name: must start with a lowercase letter");
    const noHost = await cli(
      "images",
      "register",
      "--service",
      slug,
      "--name",
      "cli-v2",
      "--host",
      "nowhere",
      "--memory",
      "64",
      "--vcpus",
      "1",
    );
    expect(noHost.stderr).toContain("vmatrix: --host: no host named nowhere");
    const noFile = await cli(
      "images",
      "register",
      "--service",
      slug,
      "--name",
      "cli-v2",
      "--host",
      "ops-nest",
      "--memory",
      "64",
      "--vcpus",
      "1",
    );
    expect(noFile.code).toBe(1);
    expect(noFile.stderr).toContain(
      `vmatrix: name: there is no file ${t.target("ops-nest").vmDir}/cli-v2.image on host ops-nest`,
    );
    const taken = await cli(
      "images",
      "register",
      "--service",
      slug,
      "--name",
      "cli-v1",
      "--host",
      "ops-nest",
      "--memory",
      "64",
      "--vcpus",
      "1",
    );
    expect(taken.stderr).toContain("vmatrix: name: an image named cli-v1 already exists.");
  });
});
