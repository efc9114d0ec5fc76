import { describe, expect, it } from "vitest";
import {
  missingFiles,
  parseBridgeSegments,
  parseDf,
  parseOpensslSha256,
  parsePing,
  parseSha256sum,
  parseStatSize,
} from "./shell-output";
import { OutputShapeError } from "./virsh-output";

// Outputs captured from GNU coreutils 9.1 and iputils 20221126 (Debian 12), LC_ALL=C.

describe("parseDf (df -B1 --output=avail,size)", () => {
  it("reads the right-aligned columns", () => {
    expect(parseDf("      Avail    1B-blocks\n83851943936 270553174016\n")).toEqual({
      availableBytes: 83851943936,
      sizeBytes: 270553174016,
    });
    expect(parseDf("Avail 1B-blocks\n    0    1024\n")).toEqual({ availableBytes: 0, sizeBytes: 1024 });
  });
  it.each([
    "",
    "Filesystem 1B-blocks Used Available\n/dev/x 1 2 3\n",
    "      Avail    1B-blocks\n-1 5\n",
    "      Avail    1B-blocks\n1 2\n3 4\n",
  ])("refuses %j", (out) => {
    expect(() => parseDf(out)).toThrow(OutputShapeError);
  });
});

describe("parseStatSize / parseSha256sum", () => {
  it("reads sizes", () => {
    expect(parseStatSize("1053\n")).toBe(1053);
    expect(() => parseStatSize("1053")).toThrow(OutputShapeError);
    expect(() => parseStatSize("big\n")).toThrow(OutputShapeError);
  });
  it("reads a checksum and checks it is for the file asked", () => {
    const line = "2909ad7059d9f31cf0090e6a645263ccde6ae5eee045e22078094ac5c3fe00f5  /tmp/t.save\n";
    expect(parseSha256sum(line, "/tmp/t.save")).toBe(
      "2909ad7059d9f31cf0090e6a645263ccde6ae5eee045e22078094ac5c3fe00f5",
    );
    expect(() => parseSha256sum(line, "/tmp/other")).toThrow(/not "\/tmp\/other"/);
    expect(() => parseSha256sum("\\" + line, "/tmp/t.save")).toThrow(OutputShapeError);
  });
});

describe("a golden image's checksum (sha256sum -- <vmDir>/<name>.image)", () => {
  const file = "/var/lib/vmatrix/vms/map-v1.image";
  it("reads the digest of the file asked, and nothing looser", () => {
    const line = `9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  ${file}\n`;
    expect(parseSha256sum(line, file)).toBe("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    // Upper case, short digests, a binary-mode '*', two lines, no newline: not sha256sum's shape.
    for (const bad of [
      line.toUpperCase(),
      `9f86d081  ${file}\n`,
      `9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 *${file}\n`,
      line + line,
      line.trimEnd(),
    ])
      expect(() => parseSha256sum(bad, file), JSON.stringify(bad)).toThrow(OutputShapeError);
    expect(() => parseSha256sum(line, `${file}.part`)).toThrow(/not /);
  });
  it("names the file that is missing, from coreutils' or OpenSSL's words, whole names only", () => {
    expect(missingFiles(`sha256sum: ${file}: No such file or directory\n`, [file])).toEqual([file]);
    expect(
      missingFiles(`Can't open "${file}" for reading, No such file or directory\n`, [`${file}.part`, file]),
    ).toEqual([file]);
    expect(missingFiles(`sha256sum: ${file}: No such file or directory\n`, [`${file}.part`])).toEqual([]);
    expect(missingFiles(`sha256sum: ${file}: Permission denied\n`, [file])).toEqual([]);
  });
});

describe("parseOpensslSha256 (openssl dgst -sha256 -r, OpenSSL 3.0)", () => {
  it("reads the digest and checks the file", () => {
    const line = "427f93cafd9cc19be6eec03e590c9c6cdf9f688a5eaf21fa8d72351e2b15fd05 */etc/hostname\n";
    expect(parseOpensslSha256(line, "/etc/hostname")).toBe(
      "427f93cafd9cc19be6eec03e590c9c6cdf9f688a5eaf21fa8d72351e2b15fd05",
    );
    expect(() => parseOpensslSha256(line, "/etc/other")).toThrow(OutputShapeError);
    expect(() => parseOpensslSha256("SHA2-256(/etc/hostname)= 427f\n", "/etc/hostname")).toThrow(OutputShapeError);
  });
});

describe("parsePing (ping -n -q)", () => {
  it("reads replies", () => {
    const out = [
      "PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.",
      "",
      "--- 127.0.0.1 ping statistics ---",
      "3 packets transmitted, 3 received, 0% packet loss, time 408ms",
      "rtt min/avg/max/mdev = 0.047/0.074/0.127/0.037 ms",
      "",
    ].join("\n");
    expect(parsePing(out)).toEqual({ transmitted: 3, received: 3, minMs: 0.047, avgMs: 0.074, maxMs: 0.127 });
  });
  it("reads total loss (no rtt line)", () => {
    const out =
      "PING 10.9.9.9 (10.9.9.9) 56(84) bytes of data.\n\n--- 10.9.9.9 ping statistics ---\n2 packets transmitted, 0 received, 100% packet loss, time 1020ms\n\n";
    expect(parsePing(out)).toEqual({ transmitted: 2, received: 0, minMs: null, avgMs: null, maxMs: null });
  });
  it("refuses replies without times, and other text", () => {
    expect(() => parsePing("2 packets transmitted, 2 received, 0% packet loss, time 1ms\n")).toThrow(/rtt/);
    expect(() => parsePing("ping: unknown host\n")).toThrow(OutputShapeError);
  });
});

describe("parseBridgeSegments (ip -j link show type bridge)", () => {
  const link = (ifname: string, ifindex: number) =>
    `{"ifindex":${ifindex},"ifname":"${ifname}","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","operstate":"UP","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"ether","address":"76:d1:e6:1b:90:18","broadcast":"ff:ff:ff:ff:ff:ff"}`;

  it("reads the owner segments from the vmxs<n> bridges, ascending, and ignores other bridges", () => {
    // As iproute2 6.1 prints it on Debian 12 (the libvirt lab), with libvirt's and docker's bridges too.
    const out = `[${[link("vmxs3", 526), link("virbr0", 4), link("vmxs1", 524), link("docker0", 5), link("vmxs12", 600), link("vmxs0", 601), link("vmxs4095", 602), link("vmxs01", 603)].join(",")}]\n`;
    expect(parseBridgeSegments(out)).toEqual([1, 3, 12]);
    expect(parseBridgeSegments("[]\n")).toEqual([]);
  });

  it("refuses what is not iproute2's JSON", () => {
    expect(() => parseBridgeSegments("Usage: ip link show")).toThrow(/not JSON/);
    expect(() => parseBridgeSegments('{"ifname":"vmxs1"}')).toThrow(/not a list/);
    expect(() => parseBridgeSegments('[{"ifindex":3}]')).toThrow(/without a name/);
  });
});
