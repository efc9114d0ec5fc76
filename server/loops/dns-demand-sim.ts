/**
 * The sim lab's load generator as DNS traffic: every tick, the synthetic model's users of
 * each service with a DNS name (flash crowds included) ask the product's DNS server for it
 * over UDP, each query carrying the client subnet of its user's cell (server/demand/sim-users.ts).
 * The DNS server turns them into demand of source DNS like any resolver's queries. The
 * replies are not awaited: a user's lookup is what counts, and the server answers anyway.
 */
import { createSocket } from "node:dgram";
import dnsPacket from "dns-packet";
import { flashCrowdsSince } from "../demand/flash-crowds";
import { addressesByCell, userQueries } from "../demand/sim-users";
import { locateIp } from "../latency/geoip";
import { singletonLoop } from "./frame";

/** Requests one query stands for (see sim-users.ts): about 10 queries a second for the seeded services by day. */
export const REQUESTS_PER_QUERY = 100;
/** A tick sends at most this many queries (a flash crowd of 1,000,000 a minute would be 2,500 a tick). */
const MAX_QUERIES_PER_TICK = 5_000;
/** Queries sent before yielding to the event loop. */
const BURST = 50;

function query(name: string, ip: string): Buffer {
  return dnsPacket.encode({
    type: "query",
    id: Math.floor(Math.random() * 65_536),
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: "A" }],
    additionals: [
      {
        name: ".",
        type: "OPT",
        udpPayloadSize: 1232,
        options: [{ code: "CLIENT_SUBNET", family: 1, sourcePrefixLength: 24, ip }],
      } as unknown as dnsPacket.Answer,
    ],
  });
}

export function dnsDemandSimLoop(dns: { host: string; port: number }, opts: { intervalMs?: number } = {}) {
  const intervalMs = opts.intervalMs ?? 15_000;
  let addresses: Map<string, string> | null = null;
  return singletonLoop(
    "dns-demand-sim",
    intervalMs,
    async ({ tx, logger }) => {
      addresses ??= addressesByCell((ip) => locateIp(ip));
      const to = Date.now();
      const from = to - intervalMs;
      const [services, crowds] = await Promise.all([
        tx.service.findMany({ where: { dnsName: { not: null } }, select: { id: true, slug: true, dnsName: true } }),
        flashCrowdsSince(tx, new Date(from)),
      ]);
      const socket = createSocket(dns.host.includes(":") ? "udp6" : "udp4");
      socket.on("error", (err) => logger.debug({ err: err.message }, "sim dns query not sent"));
      let sent = 0;
      try {
        for (const s of services) {
          const world = { serviceId: s.id, slug: s.slug, flashCrowds: crowds.filter((c) => c.serviceId === s.id) };
          for (const u of userQueries(world, from, to, addresses, REQUESTS_PER_QUERY))
            for (let i = 0; i < u.queries && sent < MAX_QUERIES_PER_TICK; i++, sent++) {
              await new Promise<void>((resolve) =>
                socket.send(query(s.dnsName!, u.ip), dns.port, dns.host, () => resolve()),
              );
              // Let a DNS server in this process read: a send's callback does not pass through
              // the event loop's poll phase, and the kernel keeps only ~256 unread datagrams.
              if (sent % BURST === BURST - 1) await new Promise((resolve) => setImmediate(resolve));
            }
        }
      } finally {
        socket.close();
      }
      logger.debug({ queries: sent }, "sim users asked the DNS server");
    },
    { lock: "dns-demand-sim", timeoutMs: 60_000 },
  );
}
