import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildCpio } from "./cpio";
import { fingerprint, parsePublicKey } from "./keys";
import { moduleLoadOrder, domainXmlTemplate } from "./guest-image";
import { renderDomainXml, type LibvirtGuest } from "./fixture";
import { run, shLine } from "./run";
import { sshdConfig } from "./sshd";
import { hostPlan, labLayout } from "./layout";
import type { LabHost } from "../manifest";

describe("shLine", () => {
  it("keeps every hostile argument one literal word for a POSIX shell", async () => {
    const words = ["a b", "x; rm -rf /", "$(id)", "`id`", "it's", "new\nline", "..", "--", "*", ""];
    const r = await run("sh", ["-c", `printf '%s\\0' ${shLine(words)}`]);
    expect(r.stdout.split("\0").slice(0, -1)).toEqual(words);
  });
});

describe("fingerprint", () => {
  it("matches ssh-keygen -l (SHA256, unpadded base64)", () => {
    const key = parsePublicKey("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDISAFAT01rU7AqnF7MlpSqb6rZUMMWvnIcmsA6Xne+h x");
    expect(fingerprint(key)).toBe("SHA256:kiNT7EdbLS6IvYJkgWEPsTG/ND/TQEXbYzD0MoLESQE");
  });
});

describe("buildCpio", () => {
  it("writes newc records, 4-byte aligned, padded to 512, ending in TRAILER!!!", () => {
    const buf = buildCpio([
      { kind: "dir", path: "bin" },
      { kind: "file", path: "init", data: Buffer.from("#!/bin/sh\n"), mode: 0o755 },
      { kind: "symlink", path: "bin/sh", target: "busybox" },
    ]);
    expect(buf.length % 512).toBe(0);
    const names: string[] = [];
    let off = 0;
    for (;;) {
      expect(buf.toString("ascii", off, off + 6)).toBe("070701");
      const field = (i: number) => parseInt(buf.toString("ascii", off + 6 + i * 8, off + 14 + i * 8), 16);
      const size = field(6);
      const nameSize = field(11);
      const name = buf.toString("utf8", off + 110, off + 110 + nameSize - 1);
      names.push(name);
      if (name === "init") expect(field(1)).toBe(0o100755);
      const dataStart = Math.ceil((off + 110 + nameSize) / 4) * 4;
      off = Math.ceil((dataStart + size) / 4) * 4;
      if (name === "TRAILER!!!") break;
    }
    expect(names).toEqual(["bin", "init", "bin/sh", "TRAILER!!!"]);
  });

  it("refuses paths that climb out", () => {
    expect(() => buildCpio([{ kind: "dir", path: "a/../../etc" }])).toThrow();
  });
});

describe("moduleLoadOrder", () => {
  it("puts dependencies first and skips built-in modules", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "vmx-modules-"));
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, "modules.dep"),
      [
        "kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko kernel/drivers/virtio/virtio_ring.ko",
        "kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko",
        "kernel/net/core/failover.ko:",
        "kernel/drivers/virtio/virtio_ring.ko:",
        "",
      ].join("\n"),
    );
    await writeFile(path.join(dir, "modules.builtin"), "kernel/drivers/virtio/virtio_ring.ko\n");
    expect(await moduleLoadOrder(dir, ["virtio_net"])).toEqual([
      "kernel/net/core/failover.ko",
      "kernel/drivers/net/net_failover.ko",
      "kernel/drivers/net/virtio_net.ko",
    ]);
    await expect(moduleLoadOrder(dir, ["nope"])).rejects.toThrow(/not found/);
  });
});

describe("renderDomainXml", () => {
  const guest = {
    domainXmlTemplate: domainXmlTemplate("/lab/guest/vmlinuz", "/lab/guest/initrd.cpio"),
    guestAddressPrefix: "10.77.0.",
    bridge: "vmxs1",
  } as LibvirtGuest;
  const host = { name: "vmx-lab-2", vmDir: "/var/lib/vmx-lab/vms" } as LabHost;

  it("fills name, disk path and address", () => {
    const xml = renderDomainXml(guest, host, "web-1", "10.77.0.42");
    expect(xml).toContain("<name>web-1</name>");
    expect(xml).toContain("<source file='/var/lib/vmx-lab/vms/web-1.img'/>");
    expect(xml).toContain("vmx.ip=10.77.0.42/24");
    expect(xml).toContain("<mac address='52:54:00:4d:00:2a'/>");
    expect(xml).toContain("<domain type='qemu'>");
    expect(xml).toMatch(/<uuid>[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}<\/uuid>/);
    expect(renderDomainXml(guest, { ...host, name: "vmx-lab-3" }, "web-1", "10.77.0.42")).toBe(xml);
    expect(xml).not.toMatch(/\{\{/);
    // Its owner's segment: the lab's segment 1 unless the guest is another owner's.
    expect(xml).toContain("<source bridge='vmxs1'/>");
    expect(renderDomainXml(guest, host, "web-1", "10.77.0.42", undefined, "vmxs3")).toContain(
      "<source bridge='vmxs3'/>",
    );
  });

  it("refuses names and addresses that are not plain", () => {
    expect(() => renderDomainXml(guest, host, "x'/><evil", "10.77.0.42")).toThrow();
    expect(() => renderDomainXml(guest, host, "web-1", "192.168.1.1")).toThrow();
    expect(() => renderDomainXml(guest, host, "web-1", "10.77.0.4 x")).toThrow();
    expect(() => renderDomainXml(guest, host, "web-1", "10.77.0.42", undefined, "br0'/><x")).toThrow(/segment bridge/);
  });
});

describe("sshdConfig", () => {
  it("allows only the host's user, by key, on loopback, with a session virsh environment", () => {
    const h = hostPlan(labLayout("/lab"), 2, 22600);
    const cfg = sshdConfig(h);
    expect(cfg).toContain("Port 22602\n");
    expect(cfg).toContain("ListenAddress 127.0.0.1\n");
    expect(cfg).toContain("AllowUsers vmx-lab-2\n");
    expect(cfg).toContain("PasswordAuthentication no\n");
    expect(cfg).toContain("SetEnv XDG_RUNTIME_DIR=/run/vmx-lab/vmx-lab-2 LIBVIRT_DEFAULT_URI=qemu:///session\n");
  });
});
