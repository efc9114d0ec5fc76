import dnsPacket, { type Packet } from "dns-packet";
import { describe, expect, it } from "vitest";
import { clientAddress, clientSubnet } from "./client-subnet";

/** A query as the server sees it: encoded to the wire and decoded again. */
function wire(options: object[] | null): Packet {
  const q: Packet = {
    type: "query",
    id: 7,
    questions: [{ name: "map.vmatrix.test", type: "A" }],
    additionals: options ? [{ name: ".", type: "OPT", udpPayloadSize: 1232, options } as never] : [],
  };
  return dnsPacket.decode(dnsPacket.encode(q));
}

describe("client subnet (EDNS Client Subnet, RFC 7871)", () => {
  it("places an IPv4 client by its subnet", () => {
    const q = wire([{ code: "CLIENT_SUBNET", family: 1, sourcePrefixLength: 24, ip: "81.2.69.142" }]);
    expect(clientSubnet(q)).toMatchObject({ family: 1, sourcePrefixLength: 24, ip: "81.2.69.0" });
    expect(clientAddress(q, "127.0.0.1")).toBe("81.2.69.0");
  });

  it("places an IPv6 client by its subnet", () => {
    const q = wire([{ code: "CLIENT_SUBNET", family: 2, sourcePrefixLength: 56, ip: "2001:4860:4860::8888" }]);
    expect(clientAddress(q, "127.0.0.1")).toBe("2001:4860:4860::");
  });

  it("uses the querying address without the option, without EDNS, or with prefix 0 (no tailoring asked)", () => {
    expect(clientAddress(wire(null), "8.8.8.8")).toBe("8.8.8.8");
    expect(clientAddress(wire([{ code: "PADDING", data: Buffer.alloc(4) }]), "8.8.8.8")).toBe("8.8.8.8");
    const zero = wire([{ code: "CLIENT_SUBNET", family: 1, sourcePrefixLength: 0, ip: "0.0.0.0" }]);
    expect(clientAddress(zero, "8.8.8.8")).toBe("8.8.8.8");
  });

  it("ignores an option with an unknown family or a prefix longer than the family's", () => {
    const bad = (family: number, prefix: number) =>
      clientAddress(
        {
          type: "query",
          additionals: [
            { name: ".", type: "OPT", options: [{ code: 8, family, sourcePrefixLength: prefix, ip: "1.2.3.4" }] },
          ],
        } as unknown as Packet,
        "8.8.8.8",
      );
    expect(bad(3, 24)).toBe("8.8.8.8");
    expect(bad(1, 33)).toBe("8.8.8.8");
    expect(bad(1, 24)).toBe("1.2.3.4");
  });
});
