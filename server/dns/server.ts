import { createSocket, type RemoteInfo } from "node:dgram";
import dnsPacket from "dns-packet";
import type { Db } from "../db/client";
import { locateIp } from "../latency/geoip";
import { answer } from "./answer";
import { zoneRecords } from "./records";

export interface DnsServerOptions {
  host: string;
  port: number;
  zone: string;
  ttl: number;
  /** How old the cached view of the database may be (default 2 s). */
  maxAgeMs?: number;
  log?: (obj: object, msg: string) => void;
}

export interface DnsServer {
  port: number;
  stop(): Promise<void>;
}

/** Where an address is, or null for addresses GeoIP cannot place (private, loopback, invalid). */
function locate(ip: string) {
  try {
    return locateIp(ip);
  } catch {
    return null;
  }
}

/**
 * The product's authoritative DNS server over UDP (dns-packet for the wire format): one
 * answer per query from the database's current bindings. A malformed packet whose
 * header is readable gets FORMERR; anything shorter is dropped, as servers do.
 */
export async function startDnsServer(db: Db, opts: DnsServerOptions): Promise<DnsServer> {
  const zone = opts.zone.toLowerCase().replace(/\.$/, "");
  const names = zoneRecords(db, zone, opts.maxAgeMs);
  const socket = createSocket(opts.host.includes(":") ? "udp6" : "udp4");

  async function handle(msg: Buffer, from: RemoteInfo) {
    let query;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      if (msg.length < 12) return;
      const id = msg.readUInt16BE(0);
      socket.send(dnsPacket.encode({ id, type: "response", flags: dnsPacket.AUTHORITATIVE_ANSWER | 1, questions: [] }), from.port, from.address);
      return;
    }
    if (query.type !== "query") return;
    let out;
    try {
      out = answer(query, { zone, ttl: opts.ttl, names: await names() }, { resolver: from.address, locate });
    } catch (err) {
      opts.log?.({ err: (err as Error).message }, "dns query failed");
      const flags = dnsPacket.AUTHORITATIVE_ANSWER | 2; // SERVFAIL
      socket.send(dnsPacket.encode({ id: query.id, type: "response", flags, questions: query.questions }), from.port, from.address);
      return;
    }
    socket.send(dnsPacket.encode(out.packet), from.port, from.address);
  }

  socket.on("message", (msg, from) => void handle(msg, from));
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(opts.port, opts.host, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  socket.on("error", (err) => opts.log?.({ err: err.message }, "dns socket error"));
  return {
    port: socket.address().port,
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
