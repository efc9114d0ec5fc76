import { readFile } from "node:fs/promises";
import pg from "pg";

/**
 * The e2e product's own database (playwright.config.ts: embedded PostgreSQL on
 * E2E_PG_PORT), for the few tests that must move time: e.g. a match's start set to now.
 */
export async function withE2eDatabase<T>(fn: (db: pg.Client) => Promise<T>): Promise<T> {
  // The embedded server's password is made at its first start and kept in its data folder.
  const password = (await readFile(".data/e2e/pg/vmatrix-password", "utf8")).trim();
  const client = new pg.Client({
    connectionString: `postgresql://vmatrix:${encodeURIComponent(password)}@127.0.0.1:${process.env.E2E_PG_PORT ?? "54349"}/vmatrix`,
  });
  // A server gone while it idles must not crash the run: awaited calls report errors.
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * The hosting network (with a free production host) farthest from every running replica
 * of the service: where a flash crowd is farthest from it, whatever earlier specs moved.
 */
export async function farthestFreeNetwork(
  db: pg.Client,
  service: string,
): Promise<{ slug: string; lat: number; lon: number }> {
  const { rows: running } = await db.query<{ lat: number; lon: number }>(
    `SELECT n.lat, n.lon FROM "Vm" v JOIN "Host" h ON h.id = v."hostId" JOIN "HostingNetwork" n ON n.id = h."hostingNetworkId"
      JOIN "Service" s ON s.id = v."serviceId" WHERE s.slug = $1 AND v.phase = 'PRODUCTION' AND v."deletedAt" IS NULL`,
    [service],
  );
  const { rows: free } = await db.query<{ slug: string; lat: number; lon: number }>(
    `SELECT DISTINCT n.slug, n.lat, n.lon FROM "HostingNetwork" n JOIN "Host" h ON h."hostingNetworkId" = n.id
      WHERE h.role = 'PRODUCTION' AND h.status = 'UP' AND NOT h.draining AND h."retiredAt" IS NULL
        AND NOT EXISTS (SELECT 1 FROM "Vm" v WHERE v."hostId" = h.id AND v."deletedAt" IS NULL)`,
  );
  const km = (a: { lat: number; lon: number }, b: { lat: number; lon: number }) => {
    const r = Math.PI / 180;
    const h =
      Math.sin(((b.lat - a.lat) * r) / 2) ** 2 +
      Math.cos(a.lat * r) * Math.cos(b.lat * r) * Math.sin(((b.lon - a.lon) * r) / 2) ** 2;
    return 2 * 6371 * Math.asin(Math.sqrt(h));
  };
  const nearest = (n: { lat: number; lon: number }) => Math.min(...running.map((r) => km(r, n)));
  return free.sort((a, b) => nearest(b) - nearest(a))[0]!;
}
