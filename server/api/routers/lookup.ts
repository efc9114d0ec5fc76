import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { authedProcedure, router, staffReadProcedure } from "../trpc";

const name = z.string().trim().min(1, "is required").max(128, "is too long");

/** Hosts and VMs are infrastructure: a clan admin (an outside customer) does not look them up. */
const infrastructureRead = staffReadProcedure("hosts and VMs");

/**
 * Names to ids, for callers that are given names (the CLI: `vms activate map-001 --host
 * tokyo-prod-1`) and call procedures that take ids. A name that names nothing is NOT_FOUND
 * with the words the CLI prints.
 */
export const lookupRouter = router({
  host: infrastructureRead.input(z.object({ name })).query(async ({ ctx, input }) => {
    const host = await ctx.db.host.findUnique({ where: { name: input.name }, select: { id: true, name: true } });
    if (!host) throw new TRPCError({ code: "NOT_FOUND", message: `no host named ${input.name}` });
    return host;
  }),
  vm: infrastructureRead.input(z.object({ name })).query(async ({ ctx, input }) => {
    const vm = await ctx.db.vm.findUnique({ where: { name: input.name }, select: { id: true, name: true } });
    if (!vm) throw new TRPCError({ code: "NOT_FOUND", message: `no VM named ${input.name}` });
    return vm;
  }),
  service: authedProcedure.input(z.object({ slug: name })).query(async ({ ctx, input }) => {
    const service = await ctx.db.service.findUnique({ where: { slug: input.slug }, select: { id: true, slug: true } });
    if (!service) throw new TRPCError({ code: "NOT_FOUND", message: `no service ${input.slug}` });
    return service;
  }),
  hostingNetwork: authedProcedure.input(z.object({ slug: name })).query(async ({ ctx, input }) => {
    const network = await ctx.db.hostingNetwork.findUnique({
      where: { slug: input.slug },
      select: { id: true, slug: true },
    });
    if (!network) throw new TRPCError({ code: "NOT_FOUND", message: `no hosting network ${input.slug}` });
    return network;
  }),
});
