/**
 * The DNS server process (`npm start` runs one on DNS_HOST:DNS_PORT, default
 * 127.0.0.1:5353): `dig @127.0.0.1 -p 5353 map.vmatrix.test A`.
 */
import { config, ConfigError } from "../config";
import { createDb } from "../db/client";
import { log } from "../log";
import { startDnsServer } from "./server";

let cfg;
try {
  cfg = config();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
if (!cfg.DATABASE_URL) {
  console.error("The DNS server needs DATABASE_URL (npm start provides it).");
  process.exit(1);
}
const db = createDb(cfg.DATABASE_URL, 2);
const logger = log.child({ component: "dns" });
let server: Awaited<ReturnType<typeof startDnsServer>> | undefined;
try {
  server = await startDnsServer(db, { host: cfg.DNS_HOST, port: cfg.DNS_PORT, zone: cfg.DNS_ZONE, ttl: cfg.DNS_TTL, log: (o, m) => logger.warn(o, m) });
} catch (err) {
  console.error(`The DNS server cannot listen on ${cfg.DNS_HOST}:${cfg.DNS_PORT} (UDP): ${(err as Error).message}. Choose another port: DNS_PORT=5354`);
  process.exit(1);
}
logger.info({ host: cfg.DNS_HOST, port: server.port, zone: cfg.DNS_ZONE }, "dns server listening");

async function stop() {
  await server?.stop();
  await db.$disconnect();
  process.exit(0);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
