import dnsPacket, { type Answer, type Packet, type Question } from "dns-packet";
import type { LatLon } from "../latency/model";
import { nearestReplica, type ReplicaPlace } from "../demand/nearest";
import { clientAddress, clientSubnet } from "./client-subnet";

/**
 * The authoritative answer for one query (thesis §4.3.1: "a DNS answer for the nearest
 * replica, with a short TTL"). Pure: the replicas per name, where the client is and the
 * latency model come in as arguments; the server and its cache are I/O around it.
 */

export interface ZoneView {
  /** Lowercase zone apex, e.g. "vmatrix.test". */
  zone: string;
  ttl: number;
  /** Healthy replicas (with their public address) per lowercase service name in the zone. */
  names: ReadonlyMap<string, readonly ReplicaPlace[]>;
}

export interface QueryContext {
  /** The querying resolver's address (UDP source). */
  resolver: string;
  /** Places an IP (offline GeoIP); null when it cannot. */
  locate: (ip: string) => LatLon | null;
  rtt?: (a: LatLon, b: LatLon) => number;
}

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

function soa(view: ZoneView): Answer {
  return {
    name: view.zone,
    type: "SOA",
    ttl: view.ttl,
    class: "IN",
    data: {
      mname: `ns1.${view.zone}`,
      rname: `hostmaster.${view.zone}`,
      serial: 1,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum: view.ttl,
    },
  };
}

export interface Answered {
  packet: Packet;
  /** For logs and tests: what was chosen and why. */
  chosen: { vm: string; address: string; rttMs: number | null }[];
  rcode: keyof typeof RCODE;
}

export function answer(query: Packet, view: ZoneView, ctx: QueryContext): Answered {
  const rd = query.flags !== undefined && (query.flags & dnsPacket.RECURSION_DESIRED) !== 0;
  const ecs = clientSubnet(query);
  const reply = (
    rcode: keyof typeof RCODE,
    answers: Answer[],
    authorities: Answer[],
    chosen: Answered["chosen"] = [],
    echo = true,
  ): Answered => {
    const additionals: Answer[] = [];
    if ((query.additionals ?? []).some((a) => a.type === "OPT")) {
      // EDNS: say so back; a tailored answer names the subnet it was tailored for.
      const options = ecs
        ? [
            {
              code: 8,
              family: ecs.family,
              sourcePrefixLength: ecs.sourcePrefixLength,
              scopePrefixLength: chosen.length ? ecs.sourcePrefixLength : 0,
              ip: ecs.ip,
            },
          ]
        : [];
      additionals.push({
        name: ".",
        type: "OPT",
        udpPayloadSize: 1232,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: 0,
        flag_do: false,
        options,
      } as unknown as Answer);
    }
    const flags = dnsPacket.AUTHORITATIVE_ANSWER | (rd ? dnsPacket.RECURSION_DESIRED : 0) | RCODE[rcode];
    return {
      packet: {
        id: query.id,
        type: "response",
        flags,
        questions: echo ? query.questions : [],
        answers,
        authorities,
        additionals,
      },
      chosen,
      rcode,
    };
  };
  if ((((query.flags ?? 0) >> 11) & 0xf) !== 0) return reply("NOTIMP", [], []);
  // One question per query (RFC 9619). A malformed query is not echoed: hundreds of
  // questions, or names that are not valid text, would only make the reply larger than the query.
  if (query.questions?.length !== 1) return reply("FORMERR", [], [], [], false);
  const q = query.questions[0] as Question;
  if (q.name.includes("\uFFFD")) return reply("FORMERR", [], [], [], false);
  const name = q.name.toLowerCase().replace(/\.$/, "");
  if (name !== view.zone && !name.endsWith(`.${view.zone}`)) return reply("REFUSED", [], []);
  if (name === view.zone) {
    if (q.type === "SOA") return reply("NOERROR", [soa(view)], []);
    if (q.type === "NS")
      return reply(
        "NOERROR",
        [{ name: view.zone, type: "NS", ttl: view.ttl, class: "IN", data: `ns1.${view.zone}` }],
        [],
      );
    return reply("NOERROR", [], [soa(view)]);
  }
  const replicas = view.names.get(name);
  if (!replicas) return reply("NXDOMAIN", [], [soa(view)]);
  if (q.type !== "A" && (q.type as string) !== "ANY") return reply("NOERROR", [], [soa(view)]);
  const serving = replicas.filter((r) => r.address);
  if (serving.length === 0) return reply("NOERROR", [], [soa(view)]);
  const place = ctx.locate(clientAddress(query, ctx.resolver));
  const best = place ? nearestReplica(place, serving, ctx.rtt) : null;
  // A client nobody can place (a private resolver, no subnet) gets every serving replica.
  const picked = best ? [{ r: best.replica, rttMs: best.rttMs }] : serving.map((r) => ({ r, rttMs: null }));
  const addresses = [...new Map(picked.map((p) => [p.r.address!, p])).values()];
  return reply(
    "NOERROR",
    addresses.map((p) => ({ name: q.name, type: "A", ttl: view.ttl, class: "IN", data: p.r.address! })),
    [],
    addresses.map((p) => ({ vm: p.r.vm, address: p.r.address!, rttMs: p.rttMs })),
  );
}
