import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { config } from "../../config";
import type { Prisma } from "../../db/generated/client";
import { previewOperation, requestOperation, type OperationRequest } from "../../jobs/request";
import { operatorProcedure, router, staffReadProcedure } from "../trpc";
import { ACTIVE_STATES } from "../../operation-states";
import { relocationProposals } from "../../replicas/relocation-proposals";
import { followOperation } from "../../replicas/targets";
import { addImage, checkImageRequest, listImages } from "../../registry/images";
import { registerImageInput } from "../../registry/images.schema";

const id = z.string().min(1).max(64);
const reason = z.string().trim().max(500).optional();
const vmInput = z.object({ vmId: id, reason });
const BOARD_INCLUDE = {
  service: { select: { slug: true, name: true } },
  host: { select: { name: true, hostingNetwork: { select: { city: true, slug: true } } } },
  operations: {
    where: { state: { in: [...ACTIVE_STATES] } },
    select: { id: true, kind: true, state: true, progress: true },
  },
} satisfies Prisma.VmInclude;

export const vmsRouter = router({
  /**
   * VMs for the lifecycle board: Nest | Loading Chambers | Production (deleted ones are left
   * out), `limit` at a time; the next page starts after `cursor`, the previous page's last VM name.
   */
  list: staffReadProcedure("VMs")
    .input(
      z
        .object({
          serviceId: z.string().max(64).optional(),
          limit: z.number().int().min(1).max(2000).default(1000),
          cursor: z.string().min(1).max(63).optional(),
        })
        .optional(),
    )
    .query(async ({ ctx, input }) => {
      const cursor = input?.cursor;
      if (cursor && !(await ctx.db.vm.findUnique({ where: { name: cursor }, select: { id: true } })))
        throw new TRPCError({ code: "BAD_REQUEST", message: `cursor: no VM named ${cursor}.` });
      return ctx.db.vm.findMany({
        where: { deletedAt: null, ...(input?.serviceId ? { serviceId: input.serviceId } : {}) },
        orderBy: [{ phase: "asc" }, { name: "asc" }],
        take: input?.limit ?? 1000,
        ...(cursor ? { cursor: { name: cursor }, skip: 1 } : {}),
        include: BOARD_INCLUDE,
      });
    }),

  /** One VM (deleted ones too) with its operation history, newest first, for its timeline. */
  get: staffReadProcedure("VMs")
    .input(z.object({ name: z.string().min(1).max(63) }))
    .query(async ({ ctx, input }) => {
      const vm = await ctx.db.vm.findUnique({
        where: { name: input.name },
        include: {
          ...BOARD_INCLUDE,
          image: { select: { name: true } },
          bindings: true,
          operations: {
            orderBy: { createdAt: "desc" },
            take: 100,
            include: {
              steps: { orderBy: { index: "asc" } },
              sourceHost: { select: { name: true } },
              targetHost: { select: { name: true } },
              requestedBy: { select: { email: true } },
            },
          },
        },
      });
      if (!vm) throw new TRPCError({ code: "NOT_FOUND", message: `No VM named ${input.name}.` });
      return vm;
    }),

  /** Images a new VM can be created from: service, the host holding the file, size and SHA-256. */
  images: staffReadProcedure("VM images").query(({ ctx }) => listImages(ctx.db)),

  /**
   * Registers a golden image: the file `<name>.image` already in the host's VM directory.
   * An oracle reads its size and SHA-256 on the host (the web app opens no SSH session);
   * the image is recorded with its audit event in one transaction.
   */
  registerImage: operatorProcedure.input(registerImageInput).mutation(async ({ ctx, input }) => {
    // Refusals that need no host first (unknown service or host, a taken name), then the file.
    await checkImageRequest(ctx.db, input);
    const facts = await ctx.oracle.call("image.inspect", { hostId: input.hostId, name: input.name });
    return ctx.db.$transaction(async (tx) => {
      const image = await addImage(tx, input, facts, ctx.user.id);
      await ctx.audit(tx, {
        action: "vm.registerImage",
        entityType: "VmImage",
        entityId: image.id,
        after: { ...input, host: facts.host, path: facts.path, sizeBytes: facts.sizeBytes, sha256: facts.sha256 },
      });
      return image;
    });
  }),

  /** A new VM from the service's image, in the Loading Chambers (a host the scheduler picks, or the one given). */
  create: operatorProcedure
    .input(
      z.object({
        serviceId: id,
        name: z.string().trim().min(1, "is required").max(63),
        imageId: id.optional(),
        targetHostId: id.optional(),
        reason,
      }),
    )
    .mutation(({ ctx, input }) => request(ctx, { kind: "CREATE", ...input })),

  /** Loading Chambers → the Hibernation Nest: boot, save, store (§3.4 pre-creation). */
  hibernate: operatorProcedure
    .input(vmInput.extend({ targetHostId: id.optional() }))
    .mutation(({ ctx, input }) =>
      request(ctx, { kind: "HIBERNATE", ...input, bootSettleMs: config().HIBERNATE_BOOT_SECONDS * 1000 }),
    ),

  /**
   * Nest / Loading Chambers → the production host the scheduler picks by demand (docs/operations.md,
   * "Where a VM goes"), within `hostingNetworkId` when given, or the host given.
   */
  activate: operatorProcedure
    .input(vmInput.extend({ targetHostId: id.optional(), hostingNetworkId: id.optional() }))
    .mutation(({ ctx, input }) => request(ctx, { kind: "ACTIVATE", ...input })),

  /** Production → the Hibernation Nest (default) or the Loading Chambers, saved; frees the host. */
  deactivate: operatorProcedure
    .input(
      vmInput.extend({
        to: z.enum(["NEST", "LOADING"]).default("NEST"),
        targetHostId: id.optional(),
        hostingNetworkId: id.optional(),
      }),
    )
    .mutation(({ ctx, input }) => request(ctx, { kind: "DEACTIVATE", ...input })),

  /**
   * A serving VM to a production host in another hosting network, its memory kept (§4.2):
   * drained, saved, copied, restored and bound there. The host is the scheduler's choice by
   * demand within `hostingNetworkId` (or anywhere else), or the host given.
   */
  relocate: operatorProcedure
    .input(vmInput.extend({ targetHostId: id.optional(), hostingNetworkId: id.optional() }))
    .mutation(({ ctx, input }) => request(ctx, { kind: "RELOCATE", ...input })),

  /**
   * A dry run of activate, deactivate, hibernate or relocate: where the VM would go and the numbers
   * behind it, and each hosting network's own choice, from the very code the request runs;
   * nothing is recorded. The Activate…, Deactivate… and Relocate… dialogs show it before confirming.
   */
  placement: staffReadProcedure("VMs")
    .input(
      z.object({
        vmId: id,
        kind: z.enum(["ACTIVATE", "DEACTIVATE", "HIBERNATE", "RELOCATE"]),
        to: z.enum(["NEST", "LOADING"]).optional(),
        hostingNetworkId: id.optional(),
      }),
    )
    .query(({ ctx, input }) => previewOperation(ctx.db, input)),

  /**
   * The Oracle's suggested moves for a service: idle replicas to relocate where they lower its
   * users' demand-weighted RTT enough (docs/operations.md, "The Oracle's suggested moves"). A
   * read: confirming one is `relocate` with the proposal's hosting network.
   */
  relocationProposals: staffReadProcedure("relocation proposals")
    .input(z.object({ serviceId: id }))
    .query(({ ctx, input }) => relocationProposals(ctx.db, input.serviceId)),

  /** Another replica of a service: a pre-booted Nest VM resumed in production (flash crowds, §3.4). */
  clone: operatorProcedure
    .input(z.object({ serviceId: id, hostingNetworkId: id.optional(), targetHostId: id.optional(), reason }))
    .mutation(({ ctx, input }) => request(ctx, { kind: "CLONE", ...input })),

  /** A stopped VM to another host of its phase: disk and config, then start if it serves (§6.3). */
  move: operatorProcedure
    .input(vmInput.extend({ targetHostId: id.optional() }))
    .mutation(({ ctx, input }) => request(ctx, { kind: "COLD_MOVE", ...input })),

  restart: operatorProcedure.input(vmInput).mutation(({ ctx, input }) => request(ctx, { kind: "RESTART", ...input })),

  /** Stops the VM and removes it from its host; its history stays. */
  delete: operatorProcedure.input(vmInput).mutation(({ ctx, input }) => request(ctx, { kind: "DELETE", ...input })),
});

type OperatorContext = Parameters<Parameters<typeof operatorProcedure.mutation>[0]>[0]["ctx"];

/**
 * Records the operation and its audit event together (a refusal is an API error in words,
 * server/api/db-errors.ts). A person's move: the replica targets follow it, so the
 * reconciler keeps it.
 */
function request(ctx: OperatorContext, req: Omit<OperationRequest, "requestedById">) {
  return requestOperation(ctx.db, { ...req, requestedById: ctx.user.id }, async (tx, op) => {
    await followOperation(tx, op);
    await ctx.audit(tx, {
      action: `vm.${req.kind.toLowerCase()}`,
      entityType: "Vm",
      entityId: op.vmId,
      after: {
        operationId: op.id,
        targetHostId: op.targetHostId,
        reason: req.reason,
        ...(req.name ? { name: req.name } : {}),
        ...(req.hostingNetworkId ? { hostingNetworkId: req.hostingNetworkId } : {}),
      },
    });
  });
}
