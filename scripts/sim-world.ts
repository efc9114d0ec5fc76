/**
 * The sim lab of `npm start` as a process of its own (the supervisor restarts it if it
 * dies, like a rack that lost power): one real SSH server per seeded host, the sim edges,
 * and the load the recorded demand puts on the lab's VMs. Tells its parent over IPC when
 * it is ready, with the edge manifest's path.
 */
import { startSimEdgesForWorld } from "../lab/sim/edge/world";
import { config } from "../server/config";
import { createDb } from "../server/db/client";
import { simLabKeyRef } from "./lib/database";
import { materializeSeededVms, serviceLoads, startSimLabForWorld } from "./lib/sim-lab";
import { driveSimLoadFromDemand } from "./lib/sim-load";

/** What the sim world tells its parent. */
export type SimWorldMessage = { ready: true; edgeManifest: string; edges: number } | { error: string };

const say = (line: string) => console.log(`[vmatrix] ${line}`);
const tell = (m: SimWorldMessage) => process.send?.(m);

const cfg = config();
const url = process.env.DATABASE_URL;
if (!url) throw new Error("The sim world needs DATABASE_URL (npm start provides it).");

const stops: (() => Promise<void>)[] = [];
async function stop(code: number) {
  for (const s of stops.reverse()) await s().catch(() => undefined);
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

const labDb = createDb(url, 2);
try {
  const keyRef = simLabKeyRef(cfg.VMATRIX_DATA_DIR);
  const lab = await startSimLabForWorld(labDb, { dataDir: cfg.VMATRIX_DATA_DIR, keyRef, log: say });
  stops.push(() => lab.stop());
  await materializeSeededVms(labDb, { keyRef, log: say });
  const edges = await startSimEdgesForWorld(labDb, cfg.VMATRIX_DATA_DIR);
  stops.push(() => edges.stop());
  // The lab's VMs use CPU for the demand they serve (metrics, autoscaler).
  const loadDb = createDb(url, 2);
  const loads = serviceLoads(loadDb, lab);
  const driver = driveSimLoadFromDemand(loadDb, loads, { log: say });
  stops.push(async () => {
    driver.stop();
    loads.stop();
    await loadDb.$disconnect();
  });
  tell({ ready: true, edgeManifest: edges.manifestPath, edges: edges.count });
} catch (err) {
  const message = `The sim lab did not start: ${err instanceof Error ? err.message : String(err)}. Is SIM_LAB_BASE_PORT (${cfg.SIM_LAB_BASE_PORT}) free, with the ports after it?`;
  tell({ error: message });
  console.error(`[vmatrix] ${message}`);
  await stop(1);
} finally {
  await labDb.$disconnect();
}
