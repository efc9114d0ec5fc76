import type { Db } from "../../server/db/client";
import type { ServiceLoads } from "./sim-lab";

/**
 * Requests per minute one production host serves at full CPU in the sim lab. With the
 * seeded services' synthetic demand (server/demand/synthetic.ts) this puts finance at
 * about 2.4 hosts at its weekday peak and sports at about 4 on weekend evenings, so the
 * autoscaler has real swings to follow.
 */
export const SIM_HOST_CAPACITY_PER_MINUTE = 5_000;
const WINDOW_MS = 15 * 60_000;

/**
 * The sim lab's VMs serve the demand the product records: every `everyMs` each service's
 * requests per minute over the last 15 minutes (DemandSample, posted by shippers or made
 * by the synthetic demand loop) become host units, spread over its running VMs as CPU.
 */
export function driveSimLoadFromDemand(
  db: Db,
  loads: ServiceLoads,
  opts: { everyMs?: number; log?: (line: string) => void } = {},
) {
  async function tick() {
    const since = new Date(Date.now() - WINDOW_MS);
    const rows = await db.$queryRaw<{ slug: string; count: bigint }[]>`
      SELECT s.slug, COALESCE(SUM(d.count), 0)::bigint AS count
        FROM "Service" s LEFT JOIN "DemandSample" d ON d."serviceId" = s.id AND d.at >= ${since}
       GROUP BY s.slug`;
    for (const r of rows) {
      const perMinute = Number(r.count) / (WINDOW_MS / 60_000);
      await loads.setServiceLoad(r.slug, perMinute / SIM_HOST_CAPACITY_PER_MINUTE);
    }
  }
  const timer = setInterval(
    () =>
      void tick().catch((err: unknown) =>
        opts.log?.(`Sim lab load from demand failed: ${err instanceof Error ? err.message : String(err)}`),
      ),
    opts.everyMs ?? 15_000,
  );
  timer.unref();
  void tick().catch(() => undefined);
  return { stop: () => clearInterval(timer) };
}
