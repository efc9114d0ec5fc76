import { describe, expect, it } from "vitest";
import { domainMac, domainUuid, domainXml } from "./domain-xml";

const base = {
  name: "map-001",
  memoryMiB: 128,
  vcpus: 1,
  vmDir: "/var/lib/vmatrix/vms",
  diskPath: "/var/lib/vmatrix/vms/map-001.img",
};

describe("domain XML", () => {
  it("gives a VM the same uuid on every host", () => {
    expect(domainUuid("map-001")).toBe(domainUuid("map-001"));
    expect(domainUuid("map-001")).not.toBe(domainUuid("map-002"));
    expect(domainUuid("map-001")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(domainXml(base)).toContain(`<uuid>${domainUuid("map-001")}</uuid>`);
  });

  it("refuses names, paths and sizes that could break out of the XML or the VM directory", () => {
    expect(() => domainXml({ ...base, name: "x</name><name>y" })).toThrow(/vmName/);
    expect(() => domainXml({ ...base, diskPath: "/etc/shadow" })).toThrow(/outside the VM directory/);
    expect(() => domainXml({ ...base, diskPath: "../../etc/passwd" })).toThrow(/\.\./);
    expect(() => domainXml({ ...base, diskPath: "a'/><disk file='b.img" })).toThrow(/diskPath/);
    expect(() => domainXml({ ...base, memoryMiB: 1.5 })).toThrow(/memoryMiB/);
  });

  it("puts the NIC on the owner segment's bridge with a MAC that moves with the VM", () => {
    expect(domainMac("map-001")).toBe(domainMac("map-001"));
    expect(domainMac("map-001")).not.toBe(domainMac("map-002"));
    expect(domainMac("map-001")).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
    const xml = domainXml({ ...base, nic: { bridge: "vmxs3", mac: domainMac("map-001") } });
    expect(xml).toContain("<source bridge='vmxs3'/>");
    expect(xml).toContain(`<mac address='${domainMac("map-001")}'/>`);
    expect(domainXml(base)).not.toContain("<interface");
    expect(() => domainXml({ ...base, nic: { bridge: "br0'/><x a='", mac: domainMac("a") } })).toThrow(/nic.bridge/);
    expect(() => domainXml({ ...base, nic: { bridge: "vmxs3", mac: "52:54:00:zz:00:00" } })).toThrow(/nic.mac/);
  });
});
