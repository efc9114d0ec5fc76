import path from "node:path";
import type { Db } from "../../../server/db/client";
import { startSimEdges, writeEdgeManifest } from "./lab";

/**
 * `npm start`'s edges: one sim edge per hosting network of the world, its HAProxy
 * declaring a backend per web service, and the edge manifest the oracle reads
 * (EDGE_MANIFEST) written next to the sim lab's data.
 */
export async function startSimEdgesForWorld(db: Db, dataDir: string) {
  const [networks, services] = await Promise.all([
    db.hostingNetwork.findMany({ select: { slug: true, lat: true, lon: true }, orderBy: { slug: "asc" } }),
    db.service.findMany({ where: { kind: "WEB" }, select: { slug: true } }),
  ]);
  const dir = path.join(dataDir, "lab-sim");
  const edges = await startSimEdges({
    dataDir: dir,
    edges: networks.map((n) => ({
      hostingNetwork: n.slug,
      lat: n.lat,
      lon: n.lon,
      backends: services.map((s) => s.slug),
    })),
  });
  const manifestPath = path.resolve(dir, "edges.json");
  await writeEdgeManifest(manifestPath, edges.manifest);
  return { manifestPath, count: networks.length, stop: edges.stop, edges };
}
