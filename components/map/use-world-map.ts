"use client";

import { useQuery } from "@tanstack/react-query";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useMemo } from "react";
import { useTRPC } from "@/components/shared/trpc";
import { useMe } from "@/components/shared/use-me";
import { mapRefreshMs } from "./replica-target-values";
import { useReplicaTargets } from "./use-replica-targets";

/**
 * The map's data: the service chosen in the URL (?service=slug, so a view can be shared),
 * the hosting networks and that service's replica targets, by id, the replica targets' saving,
 * and the reconciler's plan for its next pass (a dry run).
 */
export function useWorldMap() {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const { seesInfrastructure } = useMe();
  const services = useQuery(trpc.world.services.queryOptions());
  const service = services.data?.find((s) => s.slug === params.get("service")) ?? null;
  const serviceId = service?.id ?? null;

  const replicaTargetApi = useReplicaTargets(serviceId);
  const map = useQuery({
    ...trpc.world.map.queryOptions(serviceId ? { serviceId } : undefined),
    // While another service's map loads the last one stays on screen, without replica targets when the choice is none.
    placeholderData: (prev) => (prev && !serviceId ? { ...prev, service: null } : prev),
    refetchInterval: (q) => mapRefreshMs(q.state.data?.service, replicaTargetApi.pending),
  });
  // The reconciler's next pass as a dry run (every service's; the page shows the chosen one's), polled as the map is.
  const plan = useQuery({
    ...trpc.replicas.plan.queryOptions(),
    // Its reasons name hosts and VMs: not for clan admins (the API refuses them).
    enabled: serviceId !== null && seesInfrastructure,
    refetchInterval: mapRefreshMs(map.data?.service, replicaTargetApi.pending),
  });
  const networks = useMemo(() => new Map((map.data?.networks ?? []).map((n) => [n.id, n])), [map.data?.networks]);
  const mapService = map.data?.service;
  const replicaTargets = useMemo(
    () => (mapService ? new Map(mapService.replicaTargets.map((k) => [k.hostingNetworkId, k])) : null),
    [mapService],
  );

  const chooseService = (slug: string) => {
    const q = new URLSearchParams(params.toString());
    if (slug) q.set("service", slug);
    else q.delete("service");
    router.replace(`${pathname}${q.size ? `?${q}` : ""}`, { scroll: false });
  };

  return {
    services: services.data,
    service,
    serviceId,
    chooseService,
    map,
    plan,
    networks,
    replicaTargets,
    replicaTargetApi,
  };
}
