import { manyInvalidQuestions } from "../../test/hostile-dns";
import dnsPacket, { type Packet } from "dns-packet";
import { describe, expect, it } from "vitest";
import type { ReplicaPlace } from "../demand/nearest";
import { answer, type ZoneView } from "./answer";

const tokyo = { lat: 35.68, lon: 139.69 };
const frankfurt = { lat: 50.11, lon: 8.68 };
const replica = (vm: string, at: { lat: number; lon: number }, address: string | null): ReplicaPlace => ({
  vm,
  host: `${vm}-host`,
  hostingNetwork: vm,
  city: vm,
  ...at,
  address,
});
const view: ZoneView = {
  zone: "vmatrix.test",
  ttl: 30,
  names: new Map([
    [
      "map.vmatrix.test",
      [
        replica("map-tokyo", tokyo, "203.0.113.1"),
        replica("map-fra", frankfurt, "198.51.100.1"),
        replica("map-new", frankfurt, null),
      ],
    ],
    ["idle.vmatrix.test", []],
  ]),
};
// Clients: one address per place (the GeoIP stand-in), others unknown.
const places: Record<string, { lat: number; lon: number }> = {
  "1.0.0.1": tokyo,
  "2.0.0.1": frankfurt,
  "2.0.0.0": frankfurt,
};
const ctx = (resolver: string) => ({ resolver, locate: (ip: string) => places[ip] ?? null });

/** A query as a resolver sends it, through the wire format and back. */
function query(name: string, type: "A" | "AAAA" | "SOA" = "A", subnet?: string): Packet {
  const additionals = subnet
    ? [
        {
          name: ".",
          type: "OPT",
          udpPayloadSize: 4096,
          flags: 0,
          options: [{ code: 8, family: 1, sourcePrefixLength: 24, scopePrefixLength: 0, ip: subnet }],
        },
      ]
    : [];
  return dnsPacket.decode(
    dnsPacket.encode({
      id: 4242,
      type: "query",
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ name, type, class: "IN" }],
      additionals: additionals as never,
    }),
  );
}
/** A reply as a resolver reads it off the wire. */
interface Reply {
  id?: number;
  flag_aa?: boolean;
  rcode?: string;
  answers?: { name: string; type: string; ttl?: number; data: unknown }[];
  authorities?: { name: string; type: string }[];
  additionals?: { type: string }[];
}
const wire = (p: Packet) => dnsPacket.decode(dnsPacket.encode(p)) as unknown as Reply;

describe("authoritative answers", () => {
  it("answers the replica nearest to the querying resolver, with the zone's TTL, authoritatively", () => {
    const r = answer(query("map.vmatrix.test"), view, ctx("2.0.0.1"));
    const p = wire(r.packet);
    expect(p.id).toBe(4242);
    expect(p.flag_aa).toBe(true);
    expect(p.rcode).toBe("NOERROR");
    expect(p.answers).toMatchObject([{ name: "map.vmatrix.test", type: "A", ttl: 30, data: "198.51.100.1" }]);
  });

  it("prefers the EDNS client subnet over the resolver's own address and says it tailored the answer", () => {
    const r = answer(query("MAP.vmatrix.test", "A", "1.0.0.0"), view, {
      resolver: "2.0.0.1",
      locate: (ip) => (ip === "1.0.0.0" ? tokyo : (places[ip] ?? null)),
    });
    const p = wire(r.packet);
    expect(p.answers?.map((a) => a.data)).toEqual(["203.0.113.1"]);
    const opt = p.additionals?.find((a) => a.type === "OPT") as unknown as {
      options: { code: number; scopePrefixLength: number }[];
    };
    expect(opt.options[0]).toMatchObject({ code: 8, scopePrefixLength: 24 });
  });

  it("gives a client it cannot place every serving replica, and never a replica without a public address", () => {
    const r = answer(query("map.vmatrix.test"), view, ctx("10.0.0.1"));
    expect(
      wire(r.packet)
        .answers?.map((a) => a.data)
        .sort(),
    ).toEqual(["198.51.100.1", "203.0.113.1"]);
  });

  it("refuses names outside its zone, and says NXDOMAIN for unknown names inside it", () => {
    expect(wire(answer(query("example.com"), view, ctx("2.0.0.1")).packet).rcode).toBe("REFUSED");
    expect(wire(answer(query("vmatrix.test.evil.com"), view, ctx("2.0.0.1")).packet).rcode).toBe("REFUSED");
    const nx = wire(answer(query("nope.vmatrix.test"), view, ctx("2.0.0.1")).packet);
    expect(nx.rcode).toBe("NXDOMAIN");
    expect(nx.authorities?.[0]).toMatchObject({ type: "SOA", name: "vmatrix.test" });
  });

  it("has no data for other types or for a service with no running replica, and serves the apex SOA", () => {
    const aaaa = wire(answer(query("map.vmatrix.test", "AAAA"), view, ctx("2.0.0.1")).packet);
    expect([aaaa.rcode, aaaa.answers]).toEqual(["NOERROR", []]);
    const idle = wire(answer(query("idle.vmatrix.test"), view, ctx("2.0.0.1")).packet);
    expect([idle.rcode, idle.answers]).toEqual(["NOERROR", []]);
    expect(wire(answer(query("vmatrix.test", "SOA"), view, ctx("2.0.0.1")).packet).answers?.[0]).toMatchObject({
      type: "SOA",
    });
  });

  it("answers a query of many questions, or a name that is not text, with FORMERR and no echo of the questions", () => {
    const many = dnsPacket.decode(manyInvalidQuestions(7, 800));
    const r = answer(many, view, ctx("2.0.0.1"));
    expect(r.rcode).toBe("FORMERR");
    expect(r.packet.questions).toEqual([]);
    expect(dnsPacket.encode(r.packet).length).toBeLessThan(100);
    const one = answer(dnsPacket.decode(manyInvalidQuestions(8, 1)), view, ctx("2.0.0.1"));
    expect(one.rcode).toBe("FORMERR");
    expect(one.packet.questions).toEqual([]);
  });
});
