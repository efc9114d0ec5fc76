import dnsPacket, { type Packet } from "dns-packet";
import { describe, expect, it } from "vitest";
import { FrameReader, frame } from "./frames";
import { encodeReply, fitUdp, udpLimit } from "./truncate";

const q = (edns?: number): Packet =>
  dnsPacket.decode(
    dnsPacket.encode({
      id: 1,
      type: "query",
      questions: [{ name: "a.vmatrix.test", type: "A", class: "IN" }],
      additionals: edns ? ([{ name: ".", type: "OPT", udpPayloadSize: edns, flags: 0, options: [] }] as never) : [],
    }),
  );
const reply = (records: number): Packet => ({
  id: 1,
  type: "response",
  flags: dnsPacket.AUTHORITATIVE_ANSWER,
  questions: [{ name: "a.vmatrix.test", type: "A", class: "IN" }],
  answers: Array.from({ length: records }, (_, i) => ({
    name: "a.vmatrix.test",
    type: "A" as const,
    ttl: 30,
    class: "IN" as const,
    data: `192.0.2.${i + 1}`,
  })),
});

describe("UDP size limits", () => {
  it("allows 512 bytes without EDNS and the advertised size with it, within 512..1232", () => {
    expect(udpLimit(q())).toBe(512);
    expect(udpLimit(q(4096))).toBe(1232);
    expect(udpLimit(q(800))).toBe(800);
    expect(udpLimit(q(100))).toBe(512);
  });

  it("sends a reply that fits as it is, and one that does not as TC=1 with its question only", () => {
    const small = dnsPacket.decode(fitUdp(reply(3), 512)) as unknown as { flag_tc: boolean; answers: unknown[] };
    expect([small.flag_tc, small.answers.length]).toEqual([false, 3]);
    const big = fitUdp(reply(40), 512);
    expect(big.length).toBeLessThanOrEqual(512);
    const p = dnsPacket.decode(big) as unknown as {
      flag_tc: boolean;
      flag_aa: boolean;
      answers: unknown[];
      questions: { name: string }[];
    };
    expect([p.flag_tc, p.flag_aa, p.answers.length, p.questions[0]?.name]).toEqual([true, true, 0, "a.vmatrix.test"]);
  });
});

describe("TCP framing", () => {
  it("cuts messages out of a stream however it is split or joined", () => {
    const a = Buffer.from("first message");
    const b = Buffer.alloc(300, 7);
    const stream = Buffer.concat([frame(a), frame(b)]);
    const reader = new FrameReader();
    expect(reader.push(stream.subarray(0, 1))).toEqual([]);
    expect(reader.push(stream.subarray(1, 10))).toEqual([]);
    const out = reader.push(stream.subarray(10));
    expect(out.map((m) => m.toString("hex"))).toEqual([a.toString("hex"), b.toString("hex")]);
    expect(reader.pending).toBe(0);
  });

  it("refuses to frame a message longer than the two-byte length can say", () => {
    expect(() => frame(Buffer.alloc(70_000))).toThrow(/at most 65535 bytes/);
  });
});

/** A reply as a resolver reads it off the wire. */
interface WireReply {
  id?: number;
  rcode?: string;
  answers?: unknown[];
}

describe("encodeReply", () => {
  const reply = (n: number): Packet => ({
    id: 9,
    type: "response",
    flags: dnsPacket.AUTHORITATIVE_ANSWER,
    questions: [{ name: "map.vmatrix.test", type: "A", class: "IN" }],
    answers: Array.from({ length: n }, (_, i) => ({
      name: "map.vmatrix.test",
      type: "A" as const,
      ttl: 30,
      class: "IN" as const,
      data: `192.0.2.${i % 250}`,
    })),
  });

  it("sends a reply that fits as it is", () => {
    expect(encodeReply(reply(2), 512)).toEqual(dnsPacket.encode(reply(2)));
  });

  it("turns a reply too large for its channel, or one that cannot be encoded, into a bare SERVFAIL with the query's id", () => {
    const tooBig = dnsPacket.decode(encodeReply(reply(5000), 0xffff)) as unknown as WireReply;
    expect(tooBig).toMatchObject({ id: 9, rcode: "SERVFAIL" });
    expect(tooBig.answers).toEqual([]);
    const broken = dnsPacket.decode(
      encodeReply(reply(1), 512, () => {
        throw new Error("cannot encode");
      }),
    ) as unknown as WireReply;
    expect(broken).toMatchObject({ id: 9, rcode: "SERVFAIL" });
  });
});
