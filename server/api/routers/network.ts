import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { config } from "../../config";
import { serviceBackend, serviceSlugSchema, setBackendInput, setServiceBackend } from "../../edge/backend";
import { changePublicPool } from "../../edge/pool-change";
import { poolUse, ResolveError, resolveFrom, vmNetwork } from "../../edge/view";
import { operatorProcedure, router, staffReadProcedure } from "../trpc";
import { hostingNetworkNetwork, type EdgeHealth } from "../../edge/hosting-network-view";
import type { OracleCalls } from "../../calls/kinds";

const networkRead = staffReadProcedure("network details (addresses, pools, edges, back ends)");

/** Where the Network panel asks "what does the DNS answer here?" from. */
const SAMPLE_PLACES = [
  { name: "New York", lat: 40.71, lon: -74.01 },
  { name: "São Paulo", lat: -23.55, lon: -46.63 },
  { name: "Frankfurt", lat: 50.11, lon: 8.68 },
  { name: "Tokyo", lat: 35.68, lon: 139.69 },
  { name: "Sydney", lat: -33.87, lon: 151.21 },
];

/** An edge's health, from an oracle (the only process that talks to edges); unknown, with why, when none answers. */
const askEdgeHealth =
  (oracle: OracleCalls) =>
  (slug: string): Promise<EdgeHealth> =>
    oracle
      .call("edge.health", { slug })
      .catch((err: unknown) => ({ state: "unknown", edge: null, error: (err as Error).message }));

export const networkRouter = router({
  /** A VM's public address, NAT or backend membership, open ports, DNS name, tunnel, segment. */
  vm: networkRead
    .input(z.object({ name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, "is not a VM name") }))
    .query(async ({ ctx, input }) => {
      const entries = await vmNetwork(ctx.db, input.name);
      if (!entries) throw new TRPCError({ code: "NOT_FOUND", message: `No VM named ${input.name}.` });
      return entries;
    }),
  /** What the DNS answers for a name to clients in a few places around the world. */
  answersFrom: networkRead.input(z.object({ name: z.string().min(1).max(253) })).query(async ({ ctx, input }) => {
    const cfg = config();
    return Promise.all(
      SAMPLE_PLACES.map(async (p) => {
        const r = await resolveFrom(ctx.db, input.name, p, cfg.DNS_ZONE, cfg.DNS_TTL).catch(() => null);
        return { place: p.name, ttl: cfg.DNS_TTL, answers: r?.answers ?? [] };
      }),
    );
  }),
  /** What the DNS answers for a name to a client at one place (`vmatrix network resolve`). */
  resolve: networkRead
    .input(
      z.object({
        name: z.string().min(1, "is required").max(253, "is too long"),
        from: z.object({
          lat: z.number().min(-90, "must be between -90 and 90").max(90, "must be between -90 and 90"),
          lon: z.number().min(-180, "must be between -180 and 180").max(180, "must be between -180 and 180"),
        }),
      }),
    )
    .query(async ({ ctx, input }) => {
      const cfg = config();
      try {
        return await resolveFrom(ctx.db, input.name, input.from, cfg.DNS_ZONE, cfg.DNS_TTL);
      } catch (err) {
        if (err instanceof ResolveError) throw new TRPCError({ code: "NOT_FOUND", message: err.message });
        throw err;
      }
    }),
  /** What the edge owning a public address does with a new connection to a port, from its live firewall (`vmatrix network probe`). */
  probe: networkRead
    .input(
      z.object({
        address: z.ipv4("must be a public IPv4 address"),
        port: z.number().int().min(1, "must be from 1 to 65535").max(65535, "must be from 1 to 65535"),
        proto: z.enum(["tcp", "udp"]).default("tcp"),
      }),
    )
    .query(({ ctx, input }) => ctx.oracle.call("edge.probe", input)),
  /** Public address pool use and open drift alerts per hosting network. */
  pools: networkRead.query(({ ctx }) => poolUse(ctx.db)),
  /** One hosting network's network: what its pool's addresses serve, its edge's health, its drift alerts. */
  hostingNetwork: networkRead
    .input(z.object({ slug: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, "is not a hosting network slug") }))
    .query(async ({ ctx, input }) => {
      const view = await hostingNetworkNetwork(ctx.db, askEdgeHealth(ctx.oracle), input.slug);
      if (!view) throw new TRPCError({ code: "NOT_FOUND", message: `No hosting network ${input.slug}.` });
      return view;
    }),
  /** A service's back end (two-tier when set, thesis §4.3.2) and its replicas' tunnels home. */
  backend: networkRead.input(z.object({ service: serviceSlugSchema })).query(async ({ ctx, input }) => {
    const view = await serviceBackend(ctx.db, input.service);
    if (!view) throw new TRPCError({ code: "NOT_FOUND", message: `No service ${input.service}.` });
    return view;
  }),
  /**
   * Changes a hosting network's public address pool (operators); the edge's firewall
   * (default deny over the pool) follows at once when it has an edge.
   */
  setPool: operatorProcedure
    .input(
      z.object({
        hostingNetwork: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, "is not a hosting network slug"),
        publicPoolCidr: z.string().trim().min(1, "is required"),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const hn = await ctx.db.$transaction(async (tx) => {
        const { before, after } = await changePublicPool(tx, input.hostingNetwork, input.publicPoolCidr);
        await ctx.audit(tx, {
          action: "hostingNetwork.setPool",
          entityType: "HostingNetwork",
          entityId: before.id,
          before: { publicPoolCidr: before.publicPoolCidr },
          after: { publicPoolCidr: after.publicPoolCidr },
        });
        return after;
      });
      // The database holds the change; an edge that does not answer (or no oracle to ask)
      // shows as drift until the network loop brings it in line.
      await ctx.oracle.call("edge.applyFirewall", { slug: hn.slug }).catch(() => undefined);
      return (await hostingNetworkNetwork(ctx.db, askEdgeHealth(ctx.oracle), hn.slug))!;
    }),
  /** Declare a service's back end (all three fields) or clear it (all three null); the network loop makes the tunnels. */
  setBackend: operatorProcedure.input(setBackendInput).mutation(async ({ ctx, input }) => {
    await ctx.db.$transaction(async (tx) => {
      const { serviceId, before, after } = await setServiceBackend(tx, input);
      await ctx.audit(tx, {
        action: input.backendEndpoint === null ? "service.clearBackend" : "service.setBackend",
        entityType: "Service",
        entityId: serviceId,
        before,
        after,
      });
    });
    return (await serviceBackend(ctx.db, input.service))!;
  }),
});
