import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { HostFs } from "./host-fs";
import { Hypervisor, HypervisorError, NET_BYTES_PER_VCPU_SECOND } from "./hypervisor";

const VM_DIR = "/var/lib/vmatrix/vms";
const XML = `<domain type='kvm'><name>web</name><uuid>0f3c1d2e-1111-4222-8333-944455556666</uuid><memory unit='GiB'>1</memory><vcpu placement='static'>2</vcpu><devices><disk type='file'><source file='${VM_DIR}/web.img'/></disk></devices></domain>`;

let dir: string;
let fs: HostFs;
const loads = new Map<string, number>();
const open = () =>
  Hypervisor.open(join(dir, "hv.json"), fs, {
    loadOf: (n) => loads.get(n) ?? 0.02,
    saveImageFraction: 0.001,
    shutdownDelayMs: 10,
  });
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

  it("counts interface traffic and host CPU from the load the domain serves", async () => {
    const hv = await open();
    await hv.define(XML.replace("</devices>", "<interface type='bridge'><source bridge='br0'/></interface></devices>"));
    await hv.start("web");
    const field = (k: string) => Number(hv.stats("web", { interface: true }).find(([f]) => f === k)![1]);
    const host0 = hv.nodeCpuTimes(4);
    loads.set("web", 0.75);
    vi.advanceTimersByTime(20_000);
    expect(field("net.count")).toBe(1);
    // 20 s × 2 vCPUs × 75 % of full-load traffic.
    expect(field("net.0.rx.bytes")).toBe(30 * NET_BYTES_PER_VCPU_SECOND.rx);
    expect(field("net.0.tx.bytes")).toBe(30 * NET_BYTES_PER_VCPU_SECOND.tx);
    // The host's busy time grows by the guest's CPU time (+ its own 2 % of one CPU).
    const host1 = hv.nodeCpuTimes(4);
    const busy = host1.userNs + host1.systemNs - (host0.userNs + host0.systemNs);
    const all = busy + host1.idleNs - host0.idleNs + host1.iowaitNs - host0.iowaitNs;
    expect(busy).toBeCloseTo(30e9 + 0.02 * 20e9, -8);
    expect(all).toBeCloseTo(4 * 20e9, -8);
    // Settling for a load change keeps host time monotonic.
    hv.settleLoad("web");
    loads.set("web", 0);
    vi.advanceTimersByTime(10_000);
    const host2 = hv.nodeCpuTimes(4);
    expect(host2.userNs + host2.systemNs).toBeGreaterThanOrEqual(host1.userNs + host1.systemNs);
    expect(host2.idleNs).toBeGreaterThan(host1.idleNs);
    // Without --interface, no net fields (the driver's single-domain query stays as it was).
    expect(hv.stats("web").some(([k]) => k.startsWith("net."))).toBe(false);
    expect(hv.memoryInUseKiB()).toBeGreaterThan(512 * 1024);
  });

  it("has no interface counters for a domain without an <interface>, as libvirt", async () => {
    const hv = await open();
    await hv.define(XML);
    await hv.start("web");
    expect(hv.stats("web", { interface: true }).filter(([k]) => k.startsWith("net."))).toEqual([["net.count", "0"]]);
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

  it("crashes a running guest to 'shut off (crashed)', which starts again; only an active one crashes", async () => {
    const hv = await open();
    await hv.define(XML);
    await expect(hv.crash("web")).rejects.toThrow("domain is not running");
    await hv.start("web");
    await hv.crash("web");
    expect(hv.state("web")).toEqual({ state: "shut off", reason: "crashed" });
    expect((await open()).list()).toEqual([{ id: null, name: "web", state: "shut off" }]);
    await hv.start("web");
    expect(hv.state("web").state).toBe("running");
  });

  it("refuses what libvirt refuses", async () => {
    const hv = await open();
    await expect(hv.define("<domain type='xen'><name>x</name><memory>1</memory></domain>")).rejects.toThrow(
      HypervisorError,
    );
    await expect(hv.define("<domain type='qemu'><memory>1</memory></domain>")).rejects.toThrow(
      "missing name information",
    );
    await hv.define(XML);
    await expect(hv.define(XML.replace("944455556666", "000000000000"))).rejects.toThrow(/already exists with uuid/);
    await expect(hv.suspend("web")).rejects.toThrow("domain is not running");
    await rm(fs.real(`${VM_DIR}/web.img`));
    await expect(hv.start("web")).rejects.toThrow(
      `Cannot access storage file '${VM_DIR}/web.img': No such file or directory`,
    );
  });
});
