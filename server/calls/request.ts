import superjson, { type SuperJSONResult } from "superjson";
import type { Db } from "../db/client";
import type { Prisma } from "../db/generated/client";
import { ORACLE_STALE_MS } from "../health/readiness";
import { networkFlag } from "../jobs/request";
import type { FieldIssue } from "../matches/errors";
import { Refused, type RefusalCode } from "../refused";
import { failureError } from "./failure";
import type { CallInput, CallKind, CallResult, OracleCalls } from "./kinds";

/** graphile-worker's task that runs a call in an oracle (server/calls/worker.ts). */
export const CALL_TASK = "oracle-call";

/** How long a call may wait in the queue for an oracle to take it (default). */
const QUEUE_WAIT_MS = 10_000;

/** How long each call kind may run once an oracle took it (kept here so the web side needs no handler code). */
const BUDGET_MS: Record<CallKind, number> = {
  "host.previewKey": 15_000,
  "host.probeNew": 45_000,
  "host.probe": 45_000,
  "host.reviewKey": 15_000,
  "host.checkKey": 15_000,
  // Hashing reads the whole file: about 20 GB at a slow disk's 70 MB/s.
  "image.inspect": 300_000,
  "match.measurePings": 90_000,
  "edge.probe": 20_000,
  "edge.health": 15_000,
  "edge.applyFirewall": 30_000,
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The web app's way to an oracle: each call is a row (OracleCall) and a graphile-worker job,
 * written together; one oracle claims it before its deadline, runs it, and records the
 * answer, which this side polls for. A call nobody took in time is marked EXPIRED here in
 * the same statement that checks it, so no oracle runs it later (no late surprise after the
 * user was told it failed). With no oracle alive the call is refused at once, in words.
 */
export function queuedCalls(db: Db, requestedById?: string, opts: { queueWaitMs?: number } = {}): OracleCalls {
  const queueWaitMs = opts.queueWaitMs ?? QUEUE_WAIT_MS;
  return {
    async call<K extends CallKind>(kind: K, input: CallInput<K>): Promise<CallResult<K>> {
      await oracleAlive(db);
      const flags = await callFlags(db, input);
      const id = await db.$transaction(async (tx) => {
        const row = await tx.oracleCall.create({
          data: {
            kind,
            input: superjson.serialize(input) as unknown as Prisma.InputJsonValue,
            requestedById: requestedById ?? null,
            deadline: new Date(Date.now() + queueWaitMs),
          },
          select: { id: true },
        });
        await tx.$queryRaw`SELECT (graphile_worker.add_job(${CALL_TASK}, json_build_object('callId', ${row.id}::text), job_key := ${`call:${row.id}`}, max_attempts := 1, flags := ${flags}::text[])).id::text AS id`;
        return row.id;
      });
      return (await answer(db, id, queueWaitMs, BUDGET_MS[kind])) as CallResult<K>;
    },
  };
}

async function oracleAlive(db: Db) {
  const seen = await db.oracleProcess.findFirst({
    where: { lastSeenAt: { gte: new Date(Date.now() - ORACLE_STALE_MS) } },
    select: { id: true },
  });
  if (!seen)
    throw new Refused(
      "SERVICE_UNAVAILABLE",
      "No oracle is running, and only an oracle talks to hosts and edges: start one (npm start runs one) and try again.",
    );
}

/** A Local Oracle takes only calls about its own hosting networks (the same flags as operations). */
async function callFlags(db: Db, input: unknown): Promise<string[]> {
  const i = (input ?? {}) as Record<string, unknown>;
  if (typeof i.slug === "string") return [networkFlag(i.slug)];
  if (typeof i.hostId === "string") {
    const host = await db.host.findUnique({
      where: { id: i.hostId },
      select: { hostingNetwork: { select: { slug: true } } },
    });
    return host ? [networkFlag(host.hostingNetwork.slug)] : [];
  }
  return [];
}

/** Waits for the call's answer: the result, or its failure raised as the oracle worded it. */
async function answer(db: Db, id: string, queueWaitMs: number, budgetMs: number): Promise<unknown> {
  let runningSince: number | null = null;
  for (let delay = 25; ; delay = Math.min(delay * 2, 400)) {
    await sleep(delay);
    const row = await db.oracleCall.findUniqueOrThrow({
      where: { id },
      select: { state: true, result: true, errorCode: true, error: true, deadline: true },
    });
    if (row.state === "DONE") return superjson.deserialize(row.result as unknown as SuperJSONResult);
    if (row.state === "FAILED") {
      const failure = (row.result ?? {}) as { issues?: FieldIssue[] };
      throw failureError({
        code: (row.errorCode ?? "INTERNAL_SERVER_ERROR") as RefusalCode,
        message: row.error ?? "the oracle failed",
        issues: failure.issues,
      });
    }
    if (row.state === "QUEUED" && row.deadline.getTime() <= Date.now()) {
      const expired = await db.oracleCall.updateMany({ where: { id, state: "QUEUED" }, data: { state: "EXPIRED" } });
      if (expired.count === 1)
        throw new Refused(
          "SERVICE_UNAVAILABLE",
          `No oracle took the request within ${queueWaitMs / 1000} s (are they all busy or stopped?); nothing was done. Try again.`,
        );
      continue; // claimed meanwhile: it runs now
    }
    if (row.state === "RUNNING") {
      runningSince ??= Date.now();
      if (Date.now() - runningSince > budgetMs)
        throw new Refused(
          "TIMEOUT",
          `The oracle has not finished within ${budgetMs / 1000} s; it goes on, and what it does is audited. Look again in a moment.`,
        );
    }
  }
}
