/**
 * The DNS server process (`npm start` runs one on DNS_HOST:DNS_PORT, default
 * 127.0.0.1:5353): `dig @127.0.0.1 -p 5353 map.vmatrix.test A`.
 */
import { childProcessConfig } from "../config";
import { createDb } from "../db/client";
import { log } from "../log";
import { dnsDemandRecorder } from "./demand-recorder";
import { locate, startDnsServer } from "./server";
import { logCrashes } from "../crash-log";
import { ProcessCounters } from "../metrics/process-counters";

logCrashes(log.child({ component: "dns" }));
const cfg = childProcessConfig("The DNS server");
const db = createDb(cfg.DATABASE_URL, 2);
const logger = log.child({ component: "dns" });
// Queries by transport and answer, for /metrics (docs/security.md "Health and metrics").
const counters = new ProcessCounters(db, { onError: (err) => logger.debug({ err }, "dns counters not written") });
// Queries for a service's name become demand (docs/demand.md "Where demand comes from").
const demand = dnsDemandRecorder(db, {
  locate,
  warn: (o, m) => logger.warn(o, m),
});
let server: Awaited<ReturnType<typeof startDnsServer>> | undefined;
try {
  server = await startDnsServer(db, {
    host: cfg.DNS_HOST,
    port: cfg.DNS_PORT,
    zone: cfg.DNS_ZONE,
    ttl: cfg.DNS_TTL,
    maxStaleMs: cfg.DNS_MAX_STALE_SECONDS * 1000,
    log: (o, m) => logger.warn(o, m),
    demand,
    onQuery: (transport, outcome) => counters.add("vmatrix_dns_queries_total", { transport, outcome }),
  });
  counters.start();
  demand.start();
} catch (err) {
  console.error(
    `The DNS server cannot listen on ${cfg.DNS_HOST}:${cfg.DNS_PORT} (UDP and TCP): ${(err as Error).message}. Choose another port: DNS_PORT=5354`,
  );
  process.exit(1);
}
logger.info({ host: cfg.DNS_HOST, port: server.port, zone: cfg.DNS_ZONE }, "dns server listening");

async function stop() {
  await server?.stop();
  await demand.stop();
  await counters.stop();
  await db.$disconnect();
  process.exit(0);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
