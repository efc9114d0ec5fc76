/**
 * The sim lab of `npm start` as a process of its own (the supervisor restarts it if it
 * dies, like a rack that lost power): one real SSH server per seeded host, the sim edges,
 * and the load the recorded demand puts on the lab's VMs. Tells its parent over IPC when
 * it is ready, with the edge manifest's path.
 */
import type { SimEdges } from "../lab/sim/edge/lab";
import { startSimEdgesForWorld } from "../lab/sim/edge/world";
import type { SimLab } from "../lab/sim/lab";
import { config } from "../server/config";
import { createDb } from "../server/db/client";
import { simLabKeyRef } from "./lib/database";
import { materializeSeededImages, materializeSeededVms, serviceLoads, startSimLabForWorld } from "./lib/sim-lab";
import { driveSimLoadFromDemand } from "./lib/sim-load";

/** What the sim world tells its parent. */
export type SimWorldMessage =
  | { ready: true; edgeManifest: string; edges: number }
  | { error: string }
  | { reply: number; result?: unknown; error?: string };

/**
 * Faults its parent may inject (the chaos soak, scripts/chaos.ts), answered with
 * `{ reply: id }`; `domains` reads every host's domains, for the soak's invariants.
 */
export type SimWorldCommand = { id: number } & (
  | { do: "host-down"; host: string; powerLoss: boolean }
  | { do: "host-up"; host: string }
  | { do: "cut-sessions"; host: string }
  | { do: "crash"; host: string; vm: string }
  | { do: "disk"; host: string; freeBytes: number | null }
  | { do: "haproxy-reload"; hostingNetwork: string }
  | { do: "edge-reboot"; hostingNetwork: string }
  | { do: "domains" }
  | { do: "edges" }
);

/** One edge's serving state as the chaos soak sees it. */
export interface EdgeView {
  hostingNetwork: string;
  /** HAProxy servers as `backend address:port`. */
  servers: string[];
  /** Addresses on its public interface (no prefix length). */
  addresses: string[];
}

/** One host's domains as the chaos soak sees them. */
export interface HostDomains {
  host: string;
  domains: { name: string; state: string }[];
}

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
// Its supervisor (npm start, the chaos soak) is gone without stopping it (killed, or its
// Ctrl-C cut short): the IPC channel closes, and the lab goes too instead of holding its
// ports for the next start (an interrupted soak left one running for an hour).
process.on("disconnect", () => void stop(0));

const labDb = createDb(url, 2);
try {
  const keyRef = simLabKeyRef(cfg.VMATRIX_DATA_DIR);
  const lab = await startSimLabForWorld(labDb, { dataDir: cfg.VMATRIX_DATA_DIR, keyRef, log: say });
  stops.push(() => lab.stop());
  await materializeSeededVms(labDb, { keyRef, log: say });
  await materializeSeededImages(labDb, { keyRef, log: say });
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
  process.on("message", (m: SimWorldCommand) => {
    obey(lab, edges.edges, m).then(
      (result) => tell({ reply: m.id, result }),
      (err: unknown) => tell({ reply: m.id, error: err instanceof Error ? err.message : String(err) }),
    );
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

async function obey(lab: SimLab, edges: SimEdges, m: SimWorldCommand): Promise<unknown> {
  switch (m.do) {
    case "host-down":
      return lab.hostDown(m.host, { powerLoss: m.powerLoss });
    case "host-up":
      return lab.hostUp(m.host);
    case "cut-sessions":
      return lab.cutSessions(m.host);
    case "crash":
      return lab.crash(m.host, m.vm);
    case "disk":
      return lab.setFreeDisk(m.host, m.freeBytes ?? undefined);
    case "haproxy-reload":
      return edges.edge(m.hostingNetwork).reloadHaproxy();
    case "edge-reboot":
      return edges.edge(m.hostingNetwork).reboot();
    case "domains":
      return lab.domains();
    case "edges":
      return edges.manifest.edges.map((e): EdgeView => {
        const data = edges.edge(e.hostingNetwork).data;
        return {
          hostingNetwork: e.hostingNetwork,
          servers: Object.entries(data.backends).flatMap(([b, be]) =>
            be.servers.map((sv) => `${b} ${sv.address}:${sv.port}`),
          ),
          addresses: (data.links[e.publicInterface]?.addresses ?? []).map((a) => a.split("/")[0]!),
        };
      });
  }
}
