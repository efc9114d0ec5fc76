/**
 * The Oracle worker process (`npm start` runs one; more can run anywhere with the same
 * DATABASE_URL, e.g. one per hosting network: ORACLE_HOSTING_NETWORKS=tokyo,seoul).
 */
import { childProcessConfig } from "../server/config";
import { createDb } from "../server/db/client";
import { SshHostDriver } from "../server/hosts/driver";
import { log } from "../server/log";
import { productLoops } from "../server/loops/product-loops";
import { startOracle } from "../server/loops/oracle";
import { logCrashes } from "../server/crash-log";

/** Connection chatter (one line per host and reconnect) only when debugging. */
function sshLogLevel(): string {
  return ["debug", "trace"].includes(process.env.LOG_LEVEL ?? "") ? (process.env.LOG_LEVEL as string) : "warn";
}

logCrashes(log.child({ component: "oracle" }));
const cfg = childProcessConfig("The oracle");
const db = createDb(cfg.DATABASE_URL);
const driver = new SshHostDriver({
  connectTimeoutMs: 5000,
  commandTimeoutMs: 15_000,
  maxConnections: cfg.SSH_MAX_CONNECTIONS,
  idleCloseMs: cfg.SSH_IDLE_CLOSE_MS,
  log: log.child({ component: "ssh" }, { level: sshLogLevel() }),
});
const oracle = startOracle(db, driver, {
  heartbeatIntervalMs: cfg.HEARTBEAT_INTERVAL_MS,
  downAfter: cfg.HEARTBEAT_DOWN_AFTER,
  hostingNetworks: cfg.ORACLE_HOSTING_NETWORKS?.split(",") ?? [],
  operations: { concurrency: cfg.OPERATIONS_CONCURRENCY, connectionString: cfg.DATABASE_URL },
  loops: productLoops(cfg),
});

async function stop() {
  await oracle.stop();
  await db.$disconnect();
  process.exit(0);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
