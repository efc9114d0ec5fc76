import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCallsOracle } from "../../test/calls-oracle";
import { startOpsLab, type OpsLab } from "../../test/ops-lab";
import { Refused } from "../refused";
import { queuedCalls } from "./request";

// The web app's way to an oracle (issue 15: SSH runs only in the oracle): a call queued in
// PostgreSQL, run once by an oracle's calls worker against a real SSH host (the sim lab), its
// answer or its refusal back in the web app's words; and what happens when no oracle runs
// or none takes the call in time.
let t: OpsLab;
beforeAll(async () => {
  t = await startOpsLab();
}, 120_000);
afterAll(() => t?.stop());

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error("expected a refusal");
    },
    (err: unknown) => {
      if (!(err instanceof Refused)) throw err;
      return { code: err.code, message: err.message };
    },
  );

describe("oracle calls", () => {
  it("are refused at once, in words, when no oracle runs", async () => {
    await t.db.oracleProcess.deleteMany();
    const started = Date.now();
    expect(await refusal(queuedCalls(t.db).call("host.probe", { hostId: t.hosts["ops-prod-a"]!.id }))).toEqual({
      code: "SERVICE_UNAVAILABLE",
      message:
        "No oracle is running, and only an oracle talks to hosts and edges: start one (npm start runs one) and try again.",
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await t.db.oracleCall.count()).toBe(0);
  });

  it("run in the oracle over SSH: the host's real key, its probed facts, and a refusal with its API code", async () => {
    const oracle = await startCallsOracle(t);
    try {
      const host = t.hosts["ops-prod-a"]!;
      const calls = queuedCalls(t.db, "someone");
      const key = await calls.call("host.previewKey", { sshHost: host.sshHost, sshPort: host.sshPort });
      expect(key.fingerprint).toBe(host.hostKeyFingerprint);

      const { before, data } = await calls.call("host.probe", { hostId: host.id });
      expect(before.id).toBe(host.id);
      // Dates and big integers cross the queue intact.
      expect(data.segmentsProbedAt).toBeInstanceOf(Date);
      expect(typeof data.freeDiskBytes).toBe("bigint");
      expect(data.cpus).toBeGreaterThan(0);

      expect(await refusal(calls.call("host.probe", { hostId: "no-such-host" }))).toEqual({
        code: "NOT_FOUND",
        message: "No host with id no-such-host.",
      });
      const rows = await t.db.oracleCall.findMany({ orderBy: { createdAt: "asc" } });
      expect(rows.map((r) => [r.kind, r.state, r.requestedById])).toEqual([
        ["host.previewKey", "DONE", "someone"],
        ["host.probe", "DONE", "someone"],
        ["host.probe", "FAILED", "someone"],
      ]);
      expect(rows.every((r) => r.runBy && r.finishedAt)).toBe(true);
    } finally {
      await oracle.stop();
    }
  });

  it("expire when no oracle takes them in time, and an oracle that comes later does not run them", async () => {
    // An oracle seen alive, but not taking calls (all busy, or its worker not started yet).
    await t.db.oracleProcess.upsert({
      where: { id: "busy-oracle" },
      create: { id: "busy-oracle", hostname: "elsewhere", pid: 1, lastSeenAt: new Date() },
      update: { lastSeenAt: new Date() },
    });
    const host = t.hosts["ops-prod-b"]!;
    expect(
      await refusal(queuedCalls(t.db, undefined, { queueWaitMs: 1500 }).call("host.probe", { hostId: host.id })),
    ).toEqual({
      code: "SERVICE_UNAVAILABLE",
      message: "No oracle took the request within 1.5 s (are they all busy or stopped?); nothing was done. Try again.",
    });
    const expired = await t.db.oracleCall.findFirstOrThrow({ where: { state: "EXPIRED" } });
    const oracle = await startCallsOracle(t);
    try {
      // The oracle now works its queue; the expired call is not among what it runs.
      await queuedCalls(t.db).call("host.previewKey", { sshHost: host.sshHost, sshPort: host.sshPort });
      await new Promise((r) => setTimeout(r, 1000));
      expect(await t.db.oracleCall.findUniqueOrThrow({ where: { id: expired.id } })).toMatchObject({
        state: "EXPIRED",
        startedAt: null,
        runBy: null,
      });
    } finally {
      await oracle.stop();
    }
  });
});
