import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { HostFs } from "./host-fs";
import { Hypervisor, HypervisorError } from "./hypervisor";

const VM_DIR = "/var/lib/vmatrix/vms";
const XML = `<domain type='kvm'><name>web</name><uuid>0f3c1d2e-1111-4222-8333-944455556666</uuid><memory unit='GiB'>1</memory><vcpu placement='static'>2</vcpu><devices><disk type='file'><source file='${VM_DIR}/web.img'/></disk></devices></domain>`;

let dir: string;
let fs: HostFs;
const loads = new Map<string, number>();
const open = () => Hypervisor.open(join(dir, "hv.json"), fs, { loadOf: (n) => loads.get(n) ?? 0.02, saveImageFraction: 0.001, shutdownDelayMs: 10 });
const cpu = (hv: Hypervisor) => Number(hv.stats("web").find(([k]) => k === "cpu.time")![1]);

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ["Date"] });
  dir = await mkdtemp(join(tmpdir(), "sim-hv-"));
  fs = await HostFs.open(join(dir, "root"), [VM_DIR]);
  await writeFile(fs.real(`${VM_DIR}/web.img`), "disk");
  loads.clear();
});

afterEach(async () => {
  vi.useRealTimers();
  await rm(dir, { recursive: true, force: true });
});

describe("sim hypervisor", () => {
  it("charges CPU time at the domain's load × vCPUs while running, not while paused", async () => {
    const hv = await open();
    await hv.define(XML);
    await hv.start("web");
    loads.set("web", 0.5);
    vi.advanceTimersByTime(10_000);
    expect(cpu(hv)).toBe(10e9); // 10 s × 2 vCPUs × 50 %
    await hv.suspend("web");
    vi.advanceTimersByTime(10_000);
    expect(cpu(hv)).toBe(10e9);
    await hv.resume("web");
    hv.settleLoad("web");
    loads.set("web", 1);
    vi.advanceTimersByTime(1_000);
    expect(cpu(hv)).toBe(12e9);
    expect(hv.stats("web").find(([k]) => k === "balloon.maximum")![1]).toBe(String(1024 * 1024));
  });

  it("keeps domains across a restart of the lab", async () => {
    const hv = await open();
    await hv.define(XML);
    await hv.start("web");
    await hv.suspend("web");
    const again = await open();
    expect(again.list()).toEqual([{ id: 1, name: "web", state: "paused" }]);
    expect(again.state("web")).toEqual({ state: "paused", reason: "user" });
  });

  it("refuses what libvirt refuses", async () => {
    const hv = await open();
    await expect(hv.define("<domain type='xen'><name>x</name><memory>1</memory></domain>")).rejects.toThrow(HypervisorError);
    await expect(hv.define("<domain type='qemu'><memory>1</memory></domain>")).rejects.toThrow("missing name information");
    await hv.define(XML);
    await expect(hv.define(XML.replace("944455556666", "000000000000"))).rejects.toThrow(/already exists with uuid/);
    await expect(hv.suspend("web")).rejects.toThrow("domain is not running");
    await rm(fs.real(`${VM_DIR}/web.img`));
    await expect(hv.start("web")).rejects.toThrow(`Cannot access storage file '${VM_DIR}/web.img': No such file or directory`);
  });
});
