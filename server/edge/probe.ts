import type { Db } from "../db/client";
import { Refused } from "../refused";
import { firewallVerdict, type Probe, UnknownRuleError } from "./firewall-verdict";
import { inPool } from "./pool";
import type { Edges } from "./registry";

/**
 * What the edge that owns `probe.address` (the hosting network whose public pool holds it)
 * does with a new connection from the internet, read from its live nftables table
 * (`network probe`, API `network.probe`).
 */
export async function probeEdge(db: Db, edges: Edges | null, probe: Probe) {
  const networks = await db.hostingNetwork.findMany({ select: { slug: true, publicPoolCidr: true } });
  const hn = networks.find((n) => {
    try {
      return inPool(n.publicPoolCidr, probe.address);
    } catch {
      return false;
    }
  });
  if (!hn) throw new Refused("NOT_FOUND", `${probe.address} is in no hosting network's public address pool`);
  const edge = edges?.of(hn.slug);
  if (!edges || !edge)
    throw new Refused(
      "PRECONDITION_FAILED",
      `hosting network ${hn.slug} has no edge in the edge manifest (EDGE_MANIFEST)`,
    );
  try {
    const v = firewallVerdict(await edges.driver.firewall(edge), probe);
    return { ...probe, hostingNetwork: hn.slug, edge: edge.name, ...v };
  } catch (err) {
    if (err instanceof UnknownRuleError) throw new Refused("PRECONDITION_FAILED", err.message);
    throw err;
  }
}
