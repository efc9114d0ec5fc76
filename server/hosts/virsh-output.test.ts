import { describe, expect, it } from "vitest";
import {
  classifyVirshError,
  OutputShapeError,
  parseConfirmation,
  parseDomainList,
  parseDomState,
  parseDomStats,
  parseNodeCpuStats,
  parseNodeInfo,
  parseNodeMemStats,
  parseVersion,
} from "./virsh-output";

// Outputs below were captured from virsh 9.0.0 (Debian 12) byte for byte.

describe("parseDomainList (virsh list --all)", () => {
  it("reads active and inactive rows of vshTable", () => {
    const out = [
      " Id   Name             State",
      "---------------------------------",
      " 1    test             running",
      " 2    zeta-long-name   running",
      " -    alpha            shut off",
      "",
      "",
    ].join("\n");
    expect(parseDomainList(out)).toEqual([
      { id: 1, name: "test", state: "running" },
      { id: 2, name: "zeta-long-name", state: "running" },
      { id: null, name: "alpha", state: "shut off" },
    ]);
  });

  it("reads an empty table and names with spaces", () => {
    expect(parseDomainList(" Id   Name   State\n--------------------\n\n")).toEqual([]);
    expect(
      parseDomainList(" Id   Name        State\n-----------------------------\n 7    odd name    paused\n\n"),
    ).toEqual([{ id: 7, name: "odd name", state: "paused" }]);
  });

  it.each([
    ["", "header"],
    ["Id Name State\n---\n", "header"],
    [" Id   Name   State\n----------------------\n 1    test   exploded\n\n", "row"],
    [" Id   Name   State\n----------------------\n garbage\n\n", "row"],
  ])("refuses %j", (out, what) =>
    expect(() => parseDomainList(out)).toThrow(new RegExp(what === "row" ? "unexpected table row" : "table header")),
  );
});

describe("parseDomState (virsh domstate --reason)", () => {
  it.each([
    ["running (booted)\n\n", "running", "booted"],
    ["paused (user)\n\n", "paused", "user"],
    ["shut off (saved)\n\n", "shut off", "saved"],
    ["shut off (destroyed)\n\n", "shut off", "destroyed"],
    ["running (from snapshot)\n\n", "running", "from snapshot"],
    ["in shutdown (user)\n\n", "in shutdown", "user"],
  ])("%j", (out, state, reason) => expect(parseDomState(out)).toEqual({ state, reason }));

  it.each(["running\n\n", "exploded (boom)\n\n", "running (booted)\nrunning (booted)\n\n", ""])("refuses %j", (out) => {
    expect(() => parseDomState(out)).toThrow(OutputShapeError);
  });
});

describe("parseDomStats (virsh domstats --cpu-total --balloon)", () => {
  it("reads a running qemu domain (qemu:///session)", () => {
    const out = [
      "Domain: 'x1'",
      "  cpu.time=880000000",
      "  cpu.user=430000000",
      "  cpu.system=450000000",
      "  cpu.cache.monitor.count=0",
      "  cpu.haltpoll.success.time=0",
      "  cpu.haltpoll.fail.time=0",
      "  balloon.current=32768",
      "  balloon.maximum=32768",
      "  balloon.last-update=0",
      "  balloon.rss=40252",
      "",
      "",
    ].join("\n");
    const [s] = parseDomStats(out);
    expect(s).toMatchObject({
      name: "x1",
      cpuTimeNs: 880000000,
      cpuUserNs: 430000000,
      cpuSystemNs: 450000000,
      balloonCurrentKiB: 32768,
      balloonMaximumKiB: 32768,
      balloonRssKiB: 40252,
    });
    expect(s!.fields["cpu.haltpoll.fail.time"]).toBe("0");
  });

  it("reads an inactive qemu domain: CPU time of the last run, no live memory", () => {
    const out =
      "Domain: 'x1'\n  cpu.time=370000000\n  cpu.user=150000000\n  cpu.system=220000000\n  balloon.current=32768\n  balloon.maximum=32768\n\n";
    expect(parseDomStats(out)[0]).toMatchObject({
      cpuTimeNs: 370000000,
      balloonCurrentKiB: 32768,
      balloonRssKiB: null,
    });
  });

  it("reads an inactive domain (no CPU fields) and several records", () => {
    const out = "Domain: 'alpha'\n  balloon.current=65536\n  balloon.maximum=65536\n\nDomain: 'test'\n\n";
    expect(parseDomStats(out)).toEqual([
      {
        name: "alpha",
        cpuTimeNs: null,
        cpuUserNs: null,
        cpuSystemNs: null,
        balloonCurrentKiB: 65536,
        balloonMaximumKiB: 65536,
        balloonRssKiB: null,
        netRxBytes: null,
        netTxBytes: null,
        fields: { "balloon.current": "65536", "balloon.maximum": "65536" },
      },
      {
        name: "test",
        cpuTimeNs: null,
        cpuUserNs: null,
        cpuSystemNs: null,
        balloonCurrentKiB: null,
        balloonMaximumKiB: null,
        balloonRssKiB: null,
        netRxBytes: null,
        netTxBytes: null,
        fields: {},
      },
    ]);
  });

  it.each([
    ["  cpu.time=1\n", "before any Domain header"],
    ["Domain: 'x'\ncpu.time=1\n", "unindented field"],
    ["Domain: 'x'\n  cpu.time=-5\n", "negative counter"],
    ["Domain: 'x'\n  cpu.time=12abc\n", "non-numeric counter"],
  ])("refuses %j (%s)", (out) => expect(() => parseDomStats(out)).toThrow(OutputShapeError));
});

describe("parseDomStats --interface (virsh domstats --cpu-total --balloon --interface --list-active)", () => {
  // libvirt 9.0's qemu driver: interface fields follow the balloon group; an interface
  // with a host-side device (tap/vnet, bridge) has counters, user-mode networking only
  // counts towards net.count.
  const bridged = [
    "Domain: 'web-1'",
    "  cpu.time=5120000000",
    "  cpu.user=3070000000",
    "  cpu.system=2050000000",
    "  cpu.cache.monitor.count=0",
    "  cpu.haltpoll.success.time=0",
    "  cpu.haltpoll.fail.time=0",
    "  balloon.current=98304",
    "  balloon.maximum=98304",
    "  balloon.last-update=0",
    "  balloon.rss=112044",
    "  net.count=2",
    "  net.0.name=tap0",
    "  net.0.rx.bytes=1048576",
    "  net.0.rx.pkts=812",
    "  net.0.rx.errs=0",
    "  net.0.rx.drop=0",
    "  net.0.tx.bytes=5242880",
    "  net.0.tx.pkts=3904",
    "  net.0.tx.errs=0",
    "  net.0.tx.drop=0",
    "  net.1.name=vnet3",
    "  net.1.rx.bytes=100",
    "  net.1.rx.pkts=2",
    "  net.1.rx.errs=0",
    "  net.1.rx.drop=0",
    "  net.1.tx.bytes=200",
    "  net.1.tx.pkts=3",
    "  net.1.tx.errs=0",
    "  net.1.tx.drop=0",
    "",
    "Domain: 'usernet'",
    "  cpu.time=880000000",
    "  cpu.user=430000000",
    "  cpu.system=450000000",
    "  balloon.current=32768",
    "  balloon.maximum=32768",
    "  balloon.rss=40252",
    "  net.count=1",
    "",
    "Domain: 'nonic'",
    "  cpu.time=10000000",
    "  balloon.current=32768",
    "  balloon.maximum=32768",
    "  net.count=0",
    "",
    "",
  ].join("\n");

  it("sums the counters of every interface", () => {
    const [web, user, none] = parseDomStats(bridged);
    expect(web).toMatchObject({
      name: "web-1",
      cpuTimeNs: 5120000000,
      balloonRssKiB: 112044,
      netRxBytes: 1048676,
      netTxBytes: 5243080,
    });
    expect(user).toMatchObject({ name: "usernet", netRxBytes: null, netTxBytes: null });
    expect(none).toMatchObject({ name: "nonic", netRxBytes: null, netTxBytes: null });
  });

  it("reads no active domains as an empty list", () => {
    expect(parseDomStats("\n")).toEqual([]);
    expect(parseDomStats("")).toEqual([]);
  });

  it("refuses a non-numeric byte counter", () => {
    expect(() => parseDomStats("Domain: 'x'\n  net.count=1\n  net.0.rx.bytes=lots\n\n")).toThrow(/net.0.rx.bytes/);
  });
});

describe("parseNodeCpuStats (virsh nodecpustats)", () => {
  // "%-15s %20llu\n" per field, as virsh prints them on Linux (ns since boot).
  const row = (label: string, n: string) => `${label.padEnd(15)} ${n.padStart(20)}`;
  const linux = [
    row("user:", "1534260000000"),
    row("system:", "412880000000"),
    row("idle:", "98273410000000"),
    row("iowait:", "5230000000"),
    "",
    "",
  ].join("\n");

  it("reads Linux's four counters", () => {
    expect(linux.split("\n")[0]).toBe("user:                  1534260000000");
    expect(parseNodeCpuStats(linux)).toEqual({
      userNs: 1534260000000,
      systemNs: 412880000000,
      idleNs: 98273410000000,
      iowaitNs: 5230000000,
      intrNs: null,
    });
  });

  it("reads a platform that reports intr instead of iowait", () => {
    const bsd = [row("user:", "10"), row("system:", "20"), row("idle:", "30"), row("intr:", "4"), "", ""].join("\n");
    expect(parseNodeCpuStats(bsd)).toMatchObject({ iowaitNs: null, intrNs: 4 });
  });

  it.each([
    [[row("user:", "1"), row("idle:", "3")].join("\n") + "\n\n", /missing "system:"/],
    [
      [row("user:", "1"), row("system:", "2"), row("idle:", "3"), row("user:", "4")].join("\n") + "\n\n",
      /appears twice/,
    ],
    // --percent output is not what the sampler asked for.
    [["usage:            3.2%", "user:             2.0%"].join("\n") + "\n\n", /unexpected line/],
    [row("user:", "-1") + "\n", /unexpected line|unsigned/],
  ])("refuses %j", (out, why) => expect(() => parseNodeCpuStats(out)).toThrow(why));
});

describe("parseNodeMemStats (virsh nodememstats)", () => {
  // "%-7s: %20llu KiB\n" per field.
  const row = (label: string, n: string) => `${label.padEnd(7)}: ${n.padStart(20)} KiB`;
  const linux = [
    row("total", "16323412"),
    row("free", "9123456"),
    row("buffers", "204800"),
    row("cached", "3145728"),
    "",
    "",
  ].join("\n");

  it("reads total, free, buffers and cached", () => {
    expect(linux.split("\n")[0]).toBe("total  :             16323412 KiB");
    expect(parseNodeMemStats(linux)).toEqual({
      totalKiB: 16323412,
      freeKiB: 9123456,
      buffersKiB: 204800,
      cachedKiB: 3145728,
    });
  });

  it("accepts a platform without buffers and cached", () => {
    expect(parseNodeMemStats([row("total", "100"), row("free", "40"), "", ""].join("\n"))).toEqual({
      totalKiB: 100,
      freeKiB: 40,
      buffersKiB: null,
      cachedKiB: null,
    });
  });

  it.each([
    [row("total", "100") + "\n\n", /missing "free"/],
    ["total  :   100 MiB\n\n", /unexpected line/],
    ["Total: 100 KiB\n\n", /unexpected line/],
  ])("refuses %j", (out, why) => expect(() => parseNodeMemStats(out)).toThrow(why));
});

describe("parseNodeInfo / parseVersion", () => {
  it("reads nodeinfo", () => {
    const out = [
      "CPU model:           x86_64",
      "CPU(s):              16",
      "CPU frequency:       1400 MHz",
      "CPU socket(s):       2",
      "Core(s) per socket:  2",
      "Thread(s) per core:  2",
      "NUMA cell(s):        2",
      "Memory size:         3145728 KiB",
      "",
      "",
    ].join("\n");
    expect(parseNodeInfo(out)).toEqual({
      cpuModel: "x86_64",
      cpus: 16,
      cpuFrequencyMHz: 1400,
      sockets: 2,
      coresPerSocket: 2,
      threadsPerCore: 2,
      numaCells: 2,
      memoryKiB: 3145728,
    });
    expect(() => parseNodeInfo(out.replace("CPU(s):              16\n", ""))).toThrow('missing "CPU(s)"');
    expect(() => parseNodeInfo(out.replace("3145728 KiB", "3 GiB"))).toThrow(/Memory size/);
  });

  it("reads version", () => {
    const out =
      "Compiled against library: libvirt 9.0.0\nUsing library: libvirt 9.0.0\nUsing API: QEMU 9.0.0\nRunning hypervisor: QEMU 7.2.0\n\n";
    expect(parseVersion(out)).toEqual({ libvirt: "9.0.0", hypervisor: "QEMU", hypervisorVersion: "7.2.0" });
    expect(() => parseVersion("Using library: libvirt 9.0.0\n\n")).toThrow(/Running hypervisor/);
    expect(() => parseVersion(out + "surprise\n")).toThrow(OutputShapeError);
  });
});

describe("parseConfirmation", () => {
  it.each([
    ["define", "Domain 'alpha' defined from /tmp/d1.xml\n\n", ["alpha", "/tmp/d1.xml"]],
    ["define", "Domain alpha defined from /tmp/d1.xml\n\n", ["alpha", "/tmp/d1.xml"]],
    ["undefine", "Domain 'test' has been undefined\n\n", ["test"]],
    ["start", "Domain 'test' started\n\n", ["test"]],
    ["shutdown", "Domain 'test' is being shutdown\n\n", ["test"]],
    ["destroy", "Domain 'test' destroyed\n\n", ["test"]],
    ["suspend", "Domain 'test' suspended\n\n", ["test"]],
    ["resume", "Domain 'test' resumed\n\n", ["test"]],
    ["save", "\nDomain 'test' saved to /tmp/t2.save\n\n", ["test", "/tmp/t2.save"]],
    ["restore", "Domain restored from /tmp/t3.save\n\n", ["/tmp/t3.save"]],
  ] as const)("%s: %j", (action, out, captures) => expect(parseConfirmation(action, out)).toEqual(captures));

  it("refuses anything else", () => {
    expect(() => parseConfirmation("start", "\n")).toThrow(OutputShapeError);
    expect(() => parseConfirmation("start", "Domain 'a' destroyed\n\n")).toThrow(OutputShapeError);
    expect(() => parseConfirmation("start", "Domain 'a' started\nextra\n\n")).toThrow(OutputShapeError);
  });
});

describe("classifyVirshError", () => {
  it.each([
    ["error: failed to get domain 'nope'\n", "domain-not-found"],
    ["error: Domain is already active\n", "already-active"],
    [
      "error: Failed to destroy domain 'test'\nerror: Requested operation is not valid: domain is not running\n",
      "not-running",
    ],
    ["error: Failed to resume domain 'alpha'\nerror: internal error: domain 'alpha' not paused\n", "not-paused"],
    [
      "error: Failed to define domain from x.xml\nerror: operation failed: domain 'a' already exists with uuid 1\n",
      "already-exists",
    ],
    [
      "error: Failed to restore domain from /tmp/nope\nerror: cannot read domain image '/tmp/nope': No such file or directory\n",
      "file-not-found",
    ],
    ["error: failed to connect to the hypervisor\n", "other"],
  ] as const)("%j → %s", (stderr, kind) => expect(classifyVirshError(stderr)).toBe(kind));
});
