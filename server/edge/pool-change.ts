import type { Tx } from "../db/client";
import { Refused } from "../refused";
import { poolChangeProblem } from "./pool";

/**
 * Changes a hosting network's public address pool: a CIDR of /16 to /32 that still holds
 * every address in use and overlaps no other network's pool, checked under the lock that
 * hands addresses out (so none is handed out meanwhile) and one lock for all pool changes
 * (so two networks cannot grow into each other at once). Refusals name the problem.
 */
export async function changePublicPool(tx: Tx, slug: string, publicPoolCidr: string) {
  const before = await tx.hostingNetwork.findUnique({
    where: { slug },
    select: { id: true, slug: true, publicPoolCidr: true },
  });
  if (!before) throw new Refused("NOT_FOUND", `No hosting network ${slug}.`);
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('vmatrix:pool'), hashtext(${before.id}))`;
  const used = await tx.networkBinding.findMany({
    where: { hostingNetworkId: before.id, publicAddress: { not: null } },
    select: { publicAddress: true, vm: { select: { name: true } } },
  });
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('vmatrix:pools'))`;
  const others = await tx.hostingNetwork.findMany({
    where: { id: { not: before.id } },
    select: { slug: true, publicPoolCidr: true },
  });
  const problem = poolChangeProblem(
    publicPoolCidr,
    used.map((u) => ({ address: u.publicAddress!, what: u.vm.name })),
    others.map((o) => ({ hostingNetwork: o.slug, cidr: o.publicPoolCidr })),
  );
  if (problem) throw new Refused("BAD_REQUEST", problem);
  const after = await tx.hostingNetwork.update({
    where: { id: before.id },
    data: { publicPoolCidr },
    select: { id: true, slug: true, publicPoolCidr: true },
  });
  return { before, after };
}
