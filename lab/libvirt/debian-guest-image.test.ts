import { describe, expect, it } from "vitest";
import type { LabHost } from "../manifest";
import { debianDomainXmlTemplate, debianMirror, renderDebianDomainXml } from "./debian-guest-image";

describe("Debian service guest domain XML", () => {
  const template = debianDomainXmlTemplate({
    kernelPath: "/lab/guest-debian/vmlinuz",
    initrdPath: "/lab/guest-debian/initrd.img",
    memoryMiB: 256,
  });
  const host = { name: "vmx-lab-1", vmDir: "/var/lib/vmx-lab/vms" } as LabHost;

  it("boots the kernel with root on the virtio disk and the guest's name and address on the command line", () => {
    const xml = renderDebianDomainXml(template, host, { name: "svc-1", address: "10.77.0.42", bridge: "vmxs1" });
    expect(xml).toContain("<domain type='qemu'>");
    expect(xml).toContain("<memory unit='MiB'>256</memory>");
    expect(xml).toContain("<kernel>/lab/guest-debian/vmlinuz</kernel>");
    expect(xml).toContain("<initrd>/lab/guest-debian/initrd.img</initrd>");
    expect(xml).toContain("root=/dev/vda ro");
    expect(xml).toContain("vmx.name=svc-1 vmx.ip=10.77.0.42/24");
    expect(xml).toContain("<source file='/var/lib/vmx-lab/vms/svc-1.img'/>");
    expect(xml).toContain("<source bridge='vmxs1'/>");
    expect(xml).toContain("<mac address='52:54:00:4d:00:2a'/>");
    expect(xml).not.toMatch(/\{\{/);
  });

  it("renders the same uuid and MAC on every host, as a restore on another host needs", () => {
    const a = renderDebianDomainXml(template, host, { name: "svc-1", address: "10.77.0.42", bridge: "vmxs1" });
    const b = renderDebianDomainXml(
      template,
      { ...host, name: "vmx-lab-3" },
      { name: "svc-1", address: "10.77.0.42", bridge: "vmxs1" },
    );
    expect(b).toBe(a);
    expect(a).toMatch(/<uuid>[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}<\/uuid>/);
  });

  it("refuses values that would change the XML's structure", () => {
    expect(() =>
      renderDebianDomainXml(template, host, { name: "svc'/>", address: "10.77.0.42", bridge: "vmxs1" }),
    ).toThrow();
    expect(() =>
      renderDebianDomainXml(template, host, { name: "svc-1", address: "10.77.0.42'/>", bridge: "vmxs1" }),
    ).toThrow();
    expect(() =>
      renderDebianDomainXml(template, host, { name: "svc-1", address: "10.77.0.42", bridge: "br0'/><x" }),
    ).toThrow();
    expect(() => debianDomainXmlTemplate({ kernelPath: "/k'/>", initrdPath: "/i", memoryMiB: 256 })).toThrow();
  });
});

describe("debianMirror", () => {
  it("takes bookworm's mirror from deb822 sources, not the security suite's or another repository's", () => {
    const deb822 = [
      "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n",
      "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n",
    ].join("\n");
    expect(debianMirror(["deb https://other.example/apt cloud-sdk-bookworm main\n", deb822])).toBe(
      "http://mirror.example/debian",
    );
  });

  it("reads one-line sources and falls back to Debian's own mirror", () => {
    expect(debianMirror(["deb [arch=amd64] http://one.example/debian bookworm main contrib\n"])).toBe(
      "http://one.example/debian",
    );
    expect(debianMirror(["deb https://other.example/apt cloud-sdk-bookworm main\n"])).toBe(
      "http://deb.debian.org/debian",
    );
  });
});
