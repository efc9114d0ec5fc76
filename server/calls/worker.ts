import { run, type Task } from "graphile-worker";
import superjson, { type SuperJSONResult } from "superjson";
import { z } from "zod";
import type { Prisma } from "../db/generated/client";
import { graphileLogger, keepRunning, outsideScope } from "../jobs/worker";
import { leaseHolderName } from "../jobs/lease";
import { log } from "../log";
import { failureOf } from "./failure";
import { CALLS, type CallDeps, type CallKind } from "./kinds";
import { CALL_TASK } from "./request";

const payloadSchema = z.object({ callId: z.string().min(1).max(64) });

export interface CallsWorkerOptions {
  /** Calls run at once by this oracle (apart from its operations: a long copy never delays a key preview). */
  concurrency: number;
  connectionString?: string;
  /** A Local Oracle's hosting networks: it takes only calls about them (and calls about none). */
  scope?: string[];
}

/**
 * The oracle's side of the web app's calls (server/calls/request.ts): its own
 * graphile-worker runner. A call is claimed with one conditional update (still QUEUED, before
 * its deadline), so it runs at most once, and never after the web app stopped waiting for it.
 */
export async function startCallsWorker(deps: CallDeps, opts: CallsWorkerOptions) {
  const connectionString = opts.connectionString ?? process.env.DATABASE_URL;
  if (!connectionString) throw new Error("The calls worker needs DATABASE_URL.");
  const logger = log.child({ component: "calls" });
  const holder = leaseHolderName();

  const task: Task = async (payload) => {
    const { callId } = payloadSchema.parse(payload);
    const claimed = await deps.db.oracleCall.updateMany({
      where: { id: callId, state: "QUEUED", deadline: { gt: new Date() } },
      data: { state: "RUNNING", startedAt: new Date(), runBy: holder },
    });
    if (claimed.count === 0) return; // expired, or already taken
    const call = await deps.db.oracleCall.findUniqueOrThrow({ where: { id: callId } });
    const kind = call.kind as CallKind;
    const started = performance.now();
    let outcome: Prisma.OracleCallUpdateInput;
    try {
      if (!(kind in CALLS)) throw new Error(`unknown call ${call.kind}`);
      const input = superjson.deserialize(call.input as unknown as SuperJSONResult);
      const result = await (CALLS[kind] as (d: CallDeps, i: unknown) => Promise<unknown>)(deps, input);
      outcome = { state: "DONE", result: superjson.serialize(result) as unknown as Prisma.InputJsonValue };
    } catch (err) {
      const f = failureOf(err);
      if (f.code === "INTERNAL_SERVER_ERROR") logger.error({ callId, kind, err }, "a call failed unexpectedly");
      outcome = {
        state: "FAILED",
        errorCode: f.code,
        error: f.message,
        result: f.issues ? ({ issues: f.issues } as unknown as Prisma.InputJsonValue) : undefined,
      };
    }
    await deps.db.oracleCall.update({ where: { id: callId }, data: { ...outcome, finishedAt: new Date() } });
    logger.debug({ callId, kind, ms: Math.round(performance.now() - started), state: outcome.state }, "call answered");
  };

  return keepRunning(
    () =>
      run({
        connectionString,
        concurrency: opts.concurrency,
        noHandleSignals: true,
        taskList: { [CALL_TASK]: task },
        ...(opts.scope?.length ? { forbiddenFlags: outsideScope(connectionString, opts.scope, logger) } : {}),
        logger: graphileLogger(logger),
      }),
    "calls",
    logger,
  );
}
