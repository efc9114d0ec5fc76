import dnsPacket, { type Packet } from "dns-packet";

/** The classic UDP limit without EDNS (RFC 1035 §4.2.1). */
export const CLASSIC_UDP_LIMIT = 512;
/** What this server offers over UDP with EDNS: the DNS Flag Day 2020 size, which avoids IP fragmentation. */
export const EDNS_UDP_LIMIT = 1232;

/**
 * How large a UDP reply to this query may be: 512 bytes unless the query's OPT record
 * advertises more (RFC 6891 §6.2.5), and never more than this server offers.
 */
export function udpLimit(query: Packet): number {
  const opt = (query.additionals ?? []).find((a) => a.type === "OPT") as { udpPayloadSize?: number } | undefined;
  if (!opt) return CLASSIC_UDP_LIMIT;
  return Math.max(CLASSIC_UDP_LIMIT, Math.min(opt.udpPayloadSize ?? CLASSIC_UDP_LIMIT, EDNS_UDP_LIMIT));
}

/**
 * The reply as it goes out over UDP: whole when it fits, else the header and question with
 * TC=1 and no records (RFC 2181 §9: a partial RRset must not be cached, so nothing of the
 * answer is sent), keeping the OPT record (RFC 6891 §7). The resolver then asks over TCP.
 */
export function fitUdp(reply: Packet, limit: number): Buffer {
  const whole = dnsPacket.encode(reply);
  if (whole.length <= limit) return whole;
  const opt = (reply.additionals ?? []).filter((a) => a.type === "OPT");
  return dnsPacket.encode({
    ...reply,
    flags: (reply.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE,
    answers: [],
    authorities: [],
    additionals: opt,
  });
}

const SERVFAIL = 2;

/**
 * The reply's wire bytes, never larger than `limit` and never a throw: a reply that cannot
 * be encoded, or is still too large, goes out as SERVFAIL with the query's id and nothing
 * else, so no query can take the server down.
 */
export function encodeReply(reply: Packet, limit: number, encode: (p: Packet) => Buffer = dnsPacket.encode): Buffer {
  try {
    const out = encode(reply);
    if (out.length <= limit) return out;
  } catch {
    // falls through to the bare SERVFAIL below
  }
  return dnsPacket.encode({
    id: reply.id ?? 0,
    type: "response",
    flags: dnsPacket.AUTHORITATIVE_ANSWER | SERVFAIL,
    questions: [],
  });
}
