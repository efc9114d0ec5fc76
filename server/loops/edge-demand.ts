/**
 * The edges' traffic as demand (source EDGE): every minute, for each edge this oracle looks
 * after and each service (its backend is named after the service), the requests per client
 * address its HAProxy counted since the last pass (server/demand/edge-counts.ts) are placed
 * by GeoIP, written to the grid, and then marked as recorded on the edge. Written before
 * marked: a failure between the two counts those requests again rather than losing them.
 * One oracle at a time, so two never write the same requests before either marks them.
 */
import { newClientRequests } from "../demand/edge-counts";
import type { LocatedSample } from "../demand/grid";
import { ingestSamples } from "../demand/ingest";
import { currentEdges } from "../edge/registry";
import { locateIp } from "../latency/geoip";
import type { LatLon } from "../latency/model";
import { singletonLoop } from "./frame";

function geoip(ip: string): LatLon | null {
  try {
    return locateIp(ip);
  } catch {
    return null;
  }
}

/** `locate` places a client (offline GeoIP by default; the libvirt lab's test places its private "internet"). */
export function edgeDemandLoop(opts: { intervalMs?: number; locate?: (ip: string) => LatLon | null } = {}) {
  const locate = opts.locate ?? geoip;
  return singletonLoop(
    "edge-demand",
    opts.intervalMs ?? 60_000,
    async ({ db, tx, scope, logger }) => {
      const edges = currentEdges();
      if (!edges) return;
      const ids = await scope();
      const [networks, services] = await Promise.all([
        tx.hostingNetwork.findMany({ where: ids ? { id: { in: ids } } : {}, select: { slug: true } }),
        tx.service.findMany({ select: { id: true, slug: true } }),
      ]);
      for (const hn of networks) {
        const edge = edges.of(hn.slug);
        if (!edge) continue;
        for (const s of services) {
          try {
            const clients = await edges.driver.clientRequests(edge, s.slug);
            if (!clients) continue;
            const fresh = newClientRequests(clients);
            if (fresh.length === 0) continue;
            const at = new Date();
            const samples: LocatedSample[] = [];
            let unlocated = 0;
            for (const c of fresh) {
              const place = locate(c.address);
              if (place) samples.push({ serviceId: s.id, at, ...place, count: c.requests });
              else unlocated += c.requests;
            }
            await ingestSamples(db, samples, "EDGE");
            await edges.driver.markCounted(
              edge,
              s.slug,
              clients.filter((c) => c.requests !== c.counted),
            );
            logger.debug({ edge: hn.slug, service: s.slug, clients: fresh.length, unlocated }, "edge demand recorded");
          } catch (err) {
            logger.warn({ edge: hn.slug, service: s.slug, err: (err as Error).message }, "edge demand not read");
          }
        }
      }
    },
    { lock: "edge-demand", timeoutMs: 120_000 },
  );
}
