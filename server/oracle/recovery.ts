/**
 * Host failure (thesis §3.4, MTTR): a production VM whose host went DOWN is lost to its
 * users. When its service's policy says so (autoRecover, the default), another replica is
 * resumed from the Nest — in the same hosting network when a host is free there, else the
 * nearest place the scheduler finds — and the decision is recorded with its reason.
 * Replica targets (ReplicaTarget) replace their lost replicas through the reconciler; this covers
 * VMs no replica target accounts for. Each lost VM is replaced once (its RECOVER decision says so).
 */
export interface LostVm {
  vmId: string;
  name: string;
  serviceId: string;
  serviceSlug: string;
  hostName: string;
  hostingNetworkId: string;
  downSince: Date | null;
  autoRecover: boolean;
  /** A replica target for (service, hosting network) with desired > 0: the reconciler replaces it. */
  replicaTarget: boolean;
  /** Already replaced (a RECOVER decision names it). */
  replaced: boolean;
}

/** Which lost VMs to replace now, and why the others are left alone. Pure. */
export function recoveryPlan(lost: LostVm[]): { replace: LostVm[]; skipped: { vm: string; why: string }[] } {
  const replace: LostVm[] = [];
  const skipped: { vm: string; why: string }[] = [];
  for (const v of lost) {
    if (v.replaced) continue;
    if (v.replicaTarget)
      skipped.push({ vm: v.name, why: "its hosting network's replica target replaces it (reconciler)" });
    else if (!v.autoRecover)
      skipped.push({ vm: v.name, why: `${v.serviceSlug}'s policy does not recover automatically` });
    else replace.push(v);
  }
  return { replace, skipped };
}
