/**
 * The Oracle's suggested moves for one service (docs/operations.md, "The Oracle's suggested
 * moves"): reads what the decision needs — the service's demand of the last hour, its running
 * replicas with their CPU use, activations in flight, and the hosting networks with a free
 * production host — and names the decision's proposals for the map and the CLI. Nothing is
 * requested: an operator confirms a proposal, which requests the RELOCATE operation.
 */
import type { Db } from "../db/client";
import { recentCells } from "../demand/recent";
import { DEMAND_WINDOW_MINUTES } from "../jobs/request";
import { HOST_LOAD_WINDOW_MS } from "../metrics/host-load";
import { vmCpuLoads } from "../metrics/vm-load";
import { ACTIVE_STATES } from "../operation-states";
import {
  IDLE_CPU,
  MIN_GAIN_FRACTION,
  MIN_GAIN_MS,
  proposeRelocations,
  type RelocationProposal,
} from "../oracle/relocation-proposals";
import { Refused } from "../refused";

export interface NetworkName {
  id: string;
  slug: string;
  city: string;
}

export interface RelocationProposalView extends Omit<RelocationProposal, "fromNetworkId" | "toNetworkId"> {
  from: NetworkName;
  to: NetworkName;
}

export interface RelocationProposals {
  service: string;
  windowMinutes: number;
  /** Demand cells and requests in the window. */
  cells: number;
  requests: number;
  /** The decision's thresholds, so the answer says what "idle" and "worth a move" meant. */
  idleCpuBelow: number;
  minGainMs: number;
  minGainPercent: number;
  beforeMs: number | null;
  proposals: RelocationProposalView[];
  /** Why nothing is proposed; null when something is. */
  none: string | null;
}

const active = { in: [...ACTIVE_STATES] };

export async function relocationProposals(db: Db, serviceId: string, now = new Date()): Promise<RelocationProposals> {
  const service = await db.service.findUnique({ where: { id: serviceId }, select: { slug: true } });
  if (!service) throw new Refused("NOT_FOUND", `No service with id ${serviceId}.`);
  const network = { select: { id: true, slug: true, city: true, lat: true, lon: true } } as const;
  const [cells, vms, arriving, free] = await Promise.all([
    recentCells(db, serviceId, new Date(now.getTime() - DEMAND_WINDOW_MINUTES * 60_000)),
    // Serving replicas as placement counts them (server/demand/recent.ts, replicaNetworks): on a host
    // not down, and not on their way out.
    db.vm.findMany({
      where: {
        serviceId,
        deletedAt: null,
        phase: "PRODUCTION",
        power: "RUNNING",
        host: { status: { not: "DOWN" } },
        NOT: { operations: { some: { state: active, kind: { in: ["DEACTIVATE", "DELETE"] } } } },
      },
      select: {
        id: true,
        name: true,
        diskBytes: true,
        stateBytes: true,
        host: { select: { hostingNetwork: network } },
        operations: { where: { state: active }, select: { id: true } },
      },
      orderBy: { name: "asc" },
    }),
    db.operation.findMany({
      where: { state: active, kind: { in: ["ACTIVATE", "CLONE"] }, vm: { serviceId }, targetHostId: { not: null } },
      select: { targetHost: { select: { hostingNetwork: network } } },
    }),
    // Free as the scheduler's filters see a production host: up, trusted, in service, holding no
    // VM, none on its way there, and booked for no match.
    db.host.findMany({
      where: {
        role: "PRODUCTION",
        status: "UP",
        hostKeyTrust: "TRUSTED",
        draining: false,
        retiredAt: null,
        vms: { none: { deletedAt: null } },
        targetOps: { none: { state: active } },
        matches: { none: { status: { in: ["SCHEDULED", "PREPARING", "LIVE"] } } },
      },
      select: { hostingNetwork: network },
    }),
  ]);
  const cpu = await vmCpuLoads(
    db,
    vms.map((v) => v.id),
    new Date(now.getTime() - HOST_LOAD_WINDOW_MS),
  );

  const names = new Map<string, NetworkName & { lat: number; lon: number }>();
  const room = new Map<string, number>();
  for (const { hostingNetwork: n } of free) {
    names.set(n.id, n);
    room.set(n.id, (room.get(n.id) ?? 0) + 1);
  }
  for (const v of vms) names.set(v.host!.hostingNetwork.id, v.host!.hostingNetwork);

  const advice = proposeRelocations({
    cells,
    replicas: vms.map((v) => ({
      vmId: v.id,
      name: v.name,
      hostingNetworkId: v.host!.hostingNetwork.id,
      lat: v.host!.hostingNetwork.lat,
      lon: v.host!.hostingNetwork.lon,
      cpu: cpu.get(v.id) ?? null,
      bytes: Number(v.diskBytes + v.stateBytes),
      locked: v.operations.length > 0,
    })),
    arriving: arriving.flatMap((o) => (o.targetHost ? [o.targetHost.hostingNetwork] : [])),
    networks: [...room].map(([id, freeHosts]) => ({ ...names.get(id)!, freeHosts })),
  });
  const named = (id: string): NetworkName => {
    const n = names.get(id)!;
    return { id: n.id, slug: n.slug, city: n.city };
  };
  return {
    service: service.slug,
    windowMinutes: DEMAND_WINDOW_MINUTES,
    cells: cells.length,
    requests: cells.reduce((sum, c) => sum + c.requests, 0),
    idleCpuBelow: IDLE_CPU,
    minGainMs: MIN_GAIN_MS,
    minGainPercent: MIN_GAIN_FRACTION * 100,
    beforeMs: advice.beforeMs,
    proposals: advice.proposals.map(({ fromNetworkId, toNetworkId, ...p }) => ({
      ...p,
      from: named(fromNetworkId),
      to: named(toNetworkId),
    })),
    none: advice.none,
  };
}
