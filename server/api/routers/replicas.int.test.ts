import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../../test/db";
import { makeWorld, makeWorldWithRoom } from "../../../test/fixtures";
import type { SessionUser } from "../../auth/session";
import type { Db } from "../../db/client";
import { createCaller } from "../root";
import { createInnerContext } from "../trpc";

// replicas.plan: the reconciler's next pass as a dry run, through the API (no reconciler runs here).
let db: Db;
let drop: () => Promise<void>;
beforeAll(async () => ({ db, drop } = await createTestDatabase()));
afterAll(() => drop());

const callerFor = (user: SessionUser | null) => createCaller(createInnerContext({ db, user }));

const worldWithRoom = () => makeWorldWithRoom(db);

describe("replicas.plan", () => {
  it("shows the activation a replica target just set would bring, to operators and managers, and requests nothing", async () => {
    const w = await worldWithRoom();
    await callerFor(w.operator).replicas.set({
      serviceId: w.service.id,
      hostingNetworkId: w.hn.id,
      desired: 1,
      version: 0,
    });

    const plan = await callerFor(w.manager).replicas.plan();
    expect(plan.budget).toBe(8);
    expect(plan.services.find((s) => s.service === w.service.slug)).toEqual({
      service: w.service.slug,
      actions: [
        {
          kind: "ACTIVATE",
          vm: w.spare.name,
          hostingNetwork: w.hn.slug,
          reason: expect.stringMatching(
            new RegExp(`^reconciler: ${w.service.slug} in ${w.hn.slug} wants 1, has 0; ${w.spare.name} from the Nest`),
          ),
        },
      ],
      blocked: {},
    });

    // A dry run: no operation, the VM where it was, no word written on the replica target; asking again plans the same.
    expect(await db.operation.count()).toBe(0);
    expect(await db.vm.findUniqueOrThrow({ where: { id: w.spare.id } })).toMatchObject({
      phase: "NEST",
      hostId: w.nest.id,
    });
    expect(await db.replicaTarget.findFirstOrThrow({ where: { serviceId: w.service.id } })).toMatchObject({
      desired: 1,
      blockedReason: null,
      reconciledAt: null,
    });
    expect(await callerFor(w.operator).replicas.plan()).toEqual(plan);
    // Its reasons name hosts and VMs: infrastructure, not a clan admin's (an outside customer's).
    await expect(callerFor(w.clanA).replicas.plan()).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("says why a target cannot be met, keyed by the hosting network's slug", async () => {
    const w = await makeWorld(db);
    await callerFor(w.operator).replicas.set({
      serviceId: w.service.id,
      hostingNetworkId: w.hn.id,
      desired: 2,
      version: 0,
    });
    const mine = (await callerFor(w.operator).replicas.plan()).services.find((s) => s.service === w.service.slug);
    expect(mine).toEqual({
      service: w.service.slug,
      actions: [],
      // The fixture's production host has never been heard from.
      blocked: { [w.hn.slug]: `No free production host in ${w.hn.slug} (1 not yet heard from): 2 replicas short.` },
    });
    expect(await db.operation.count()).toBe(0);
  });

  it("is refused to a signed-out caller", async () => {
    const err = await callerFor(null)
      .replicas.plan()
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(TRPCError);
    expect((err as TRPCError).code).toBe("UNAUTHORIZED");
  });
});
