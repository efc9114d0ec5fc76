import { createSocket } from "node:dgram";
import { createServer, type Server, type Socket } from "node:net";
import dnsPacket, { type Packet } from "dns-packet";
import type { Db } from "../db/client";
import { locateIp } from "../latency/geoip";
import { answer } from "./answer";
import { clientAddress } from "./client-subnet";
import { FrameReader, frame } from "./frames";
import { zoneRecords } from "./records";
import { encodeReply, fitUdp, udpLimit } from "./truncate";

export interface DnsServerOptions {
  host: string;
  /** UDP and TCP both listen on it; 0 picks a free port for both (tests). */
  port: number;
  zone: string;
  ttl: number;
  /** How old the cached view of the database may be (default 2 s). */
  maxAgeMs?: number;
  /** How old a view may still be served while the database cannot be read (default 5 min). */
  maxStaleMs?: number;
  /** A TCP connection with no query for this long is closed (default 10 s; RFC 7766 §6.2.3). */
  tcpIdleMs?: number;
  /** More open TCP connections than this are refused at once (default 256). */
  maxTcpConnections?: number;
  log?: (obj: object, msg: string) => void;
  /** Told of every A query for a name the zone serves, with the client's address (ECS, else the resolver): demand. */
  demand?: { record(name: string, clientIp: string): void };
  /** Told of every message handled: its transport and the reply's code, or "dropped" (for /metrics). */
  onQuery?: (transport: "udp" | "tcp", outcome: string) => void;
}

export interface DnsServer {
  port: number;
  stop(): Promise<void>;
}

/** Where an address is, or null for addresses GeoIP cannot place (private, loopback, invalid). */
export function locate(ip: string) {
  try {
    return locateIp(ip);
  } catch {
    return null;
  }
}

const FORMERR = 1;
const SERVFAIL = 2;
const RCODE_NAMES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"];
/** The reply's response code by name (the low four bits of the flags). */
const outcomeOf = (r: { reply: Packet } | null) =>
  r ? (RCODE_NAMES[(r.reply.flags ?? 0) & 0xf] ?? `RCODE${(r.reply.flags ?? 0) & 0xf}`) : "dropped";

/**
 * The product's authoritative DNS server over UDP and TCP (dns-packet for the wire
 * format): one answer per query from the database's current bindings. Over UDP a reply
 * larger than the client accepts goes out with TC=1 and the client asks again over TCP
 * (RFC 7766), where a connection may carry many queries, answered as each is ready. A
 * malformed message whose header is readable gets FORMERR; anything shorter is dropped
 * (UDP) or ends the connection (TCP), as servers do.
 */
export async function startDnsServer(db: Db, opts: DnsServerOptions): Promise<DnsServer> {
  const zone = opts.zone.toLowerCase().replace(/\.$/, "");
  const names = zoneRecords(db, zone, {
    maxAgeMs: opts.maxAgeMs,
    maxStaleMs: opts.maxStaleMs,
    onStale: (err, ageMs) =>
      opts.log?.({ err: err.message, ageMs }, "database unreadable: answering from the last good view"),
  });
  const idleMs = opts.tcpIdleMs ?? 10_000;
  const maxConnections = opts.maxTcpConnections ?? 256;

  /** The reply to one message from a client, or null when there is none to give. */
  async function respond(msg: Buffer, client: string): Promise<{ reply: Packet; query: Packet | null } | null> {
    let query: Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      if (msg.length < 12) return null;
      return {
        reply: {
          id: msg.readUInt16BE(0),
          type: "response",
          flags: dnsPacket.AUTHORITATIVE_ANSWER | FORMERR,
          questions: [],
        },
        query: null,
      };
    }
    if (query.type !== "query") return null;
    try {
      const view = { zone, ttl: opts.ttl, names: await names() };
      const answered = answer(query, view, { resolver: client, locate });
      // One user looking a service up asks for A (and maybe AAAA): A alone counts, once.
      const q = query.questions?.[0];
      const name = q?.name.toLowerCase().replace(/\.$/, "");
      if (opts.demand && q?.type === "A" && answered.rcode === "NOERROR" && name && view.names.has(name))
        opts.demand.record(name, clientAddress(query, client));
      return { reply: answered.packet, query };
    } catch (err) {
      opts.log?.({ err: (err as Error).message }, "dns query failed");
      return {
        reply: {
          id: query.id,
          type: "response",
          flags: dnsPacket.AUTHORITATIVE_ANSWER | SERVFAIL,
          questions: query.questions?.length === 1 ? query.questions : [],
        },
        query,
      };
    }
  }

  const connections = new Set<Socket>();
  const tcp = createServer((socket) => {
    if (connections.size >= maxConnections) {
      socket.destroy();
      return;
    }
    connections.add(socket);
    socket.setNoDelay(true);
    // Idle = no bytes either way for idleMs; a slow answer being computed keeps it open.
    socket.setTimeout(idleMs, () => socket.end());
    const client = (socket.remoteAddress ?? "").replace(/^::ffff:/, "");
    const reader = new FrameReader();
    socket.on("data", (chunk) => {
      for (const msg of reader.push(chunk)) {
        if (msg.length < 12) {
          opts.onQuery?.("tcp", "dropped");
          socket.destroy();
          return;
        }
        respond(msg, client)
          .then((r) => {
            opts.onQuery?.("tcp", outcomeOf(r));
            if (r && !socket.destroyed && socket.writable) socket.write(frame(encodeReply(r.reply, 0xffff)));
          })
          .catch((err: unknown) => {
            opts.log?.({ err: (err as Error).message }, "dns tcp reply failed");
            socket.destroy();
          });
      }
    });
    socket.on("error", () => socket.destroy());
    socket.on("close", () => connections.delete(socket));
  });

  const { udp, port } = await listenBoth(tcp, opts.host, opts.port);
  udp.on("message", (msg, from) => {
    respond(msg, from.address)
      .then((r) => {
        opts.onQuery?.("udp", outcomeOf(r));
        if (!r) return;
        const limit = r.query ? udpLimit(r.query) : 512;
        udp.send(
          encodeReply(r.reply, limit, (p) => fitUdp(p, limit)),
          from.port,
          from.address,
        );
      })
      .catch((err: unknown) => opts.log?.({ err: (err as Error).message }, "dns udp reply failed"));
  });

  udp.on("error", (err) => opts.log?.({ err: err.message }, "dns udp socket error"));
  tcp.on("error", (err) => opts.log?.({ err: err.message }, "dns tcp server error"));
  return {
    port,
    async stop() {
      for (const s of connections) s.destroy();
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}

/**
 * Binds TCP and then UDP on the same port. With port 0 the TCP port is picked by the
 * system and UDP follows; if that UDP port is taken, another pair is tried.
 */
async function listenBoth(
  tcp: Server,
  host: string,
  port: number,
): Promise<{ udp: ReturnType<typeof createSocket>; port: number }> {
  for (let attempt = 0; ; attempt++) {
    await new Promise<void>((resolve, reject) => {
      tcp.once("error", reject);
      tcp.listen(port, host, () => {
        tcp.off("error", reject);
        resolve();
      });
    });
    const chosen = (tcp.address() as { port: number }).port;
    const udp = createSocket(host.includes(":") ? "udp6" : "udp4");
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once("error", reject);
        udp.bind(chosen, host, () => {
          udp.off("error", reject);
          resolve();
        });
      });
      return { udp, port: chosen };
    } catch (err) {
      try {
        udp.close();
      } catch {
        // never bound: nothing to close
      }
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      if (port !== 0 || attempt >= 4 || (err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    }
  }
}
