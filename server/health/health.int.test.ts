import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/db";
import { makeWorld } from "../../test/fixtures";
import type { Db } from "../db/client";
import { startDnsServer } from "../dns/server";
import { log } from "../log";
import { presenceLoop } from "../loops/presence";
import { prune } from "../loops/retention";
import { ProcessCounters } from "../metrics/process-counters";
import { productMetrics } from "../metrics/prometheus";
import { dnsAnswers, readiness } from "./readiness";

// /readyz's checks, /metrics' series and the retention pass against a real PostgreSQL and
// the product's real DNS server.
let t: Awaited<ReturnType<typeof createTestDatabase>>;
let db: Db;
let dns: Awaited<ReturnType<typeof startDnsServer>>;
let counters: ProcessCounters;
const ZONE = "vmatrix.test";

beforeAll(async () => {
  t = await createTestDatabase();
  db = t.db;
  counters = new ProcessCounters(db);
  dns = await startDnsServer(db, {
    host: "127.0.0.1",
    port: 0,
    zone: ZONE,
    ttl: 30,
    onQuery: (transport, outcome) => counters.add("vmatrix_dns_queries_total", { transport, outcome }),
  });
  // The first answer loads the zone and the GeoIP data: not what a readiness check measures.
  await dnsAnswers("127.0.0.1", dns.port, ZONE, 30_000);
});
afterAll(async () => {
  await dns?.stop();
  await t?.drop();
});

const loopCtx = () => ({ db, driver: undefined as never, scope: async () => undefined, logger: log });

describe("/readyz", () => {
  it("is not ready without an oracle, and says so; ready once an oracle says it is alive", async () => {
    const before = await readiness(db, { host: "127.0.0.1", port: dns.port, zone: ZONE });
    expect(before.ready).toBe(false);
    expect(before.checks.database).toEqual({ ok: true, detail: "PostgreSQL answers" });
    expect(before.checks.oracle).toEqual({ ok: false, detail: "no oracle has ever run against this database" });
    expect(before.checks.dns.ok).toBe(true);

    await presenceLoop().tick(loopCtx());
    const after = await readiness(db, { host: "127.0.0.1", port: dns.port, zone: ZONE });
    expect(after).toMatchObject({ ready: true, checks: { oracle: { ok: true, detail: "1 oracle running" } } });

    // An oracle that stopped saying so is not counted.
    await db.oracleProcess.updateMany({ data: { lastSeenAt: new Date(Date.now() - 60_000) } });
    const stale = await readiness(db, { host: "127.0.0.1", port: dns.port, zone: ZONE });
    expect(stale.ready).toBe(false);
    expect(stale.checks.oracle.detail).toMatch(/^no oracle seen for 6\d s$/);
  });

  it("names a DNS server that does not answer", async () => {
    const r = await dnsAnswers("127.0.0.1", 9, ZONE, 300);
    expect(r).toEqual({ ok: false, detail: "The DNS server on 127.0.0.1:9 did not answer within 300 ms" });
  });
});

describe("/metrics", () => {
  it("reads hosts, alerts, operations, oracles and the DNS servers' counted queries from the database", async () => {
    const w = await makeWorld(db);
    await db.host.update({ where: { id: w.prod.id }, data: { status: "UP", lastHeartbeatAt: new Date() } });
    await db.alert.create({ data: { kind: "server-loss", severity: "CRITICAL", message: "lost" } });
    await db.alert.create({
      data: { kind: "host-down", severity: "CRITICAL", message: "gone", resolvedAt: new Date() },
    });
    const vm = await db.vm.create({ data: { name: "metrics-vm", serviceId: w.service.id, phase: "PRODUCTION" } });
    await db.operation.create({
      data: {
        kind: "ACTIVATE",
        state: "SUCCEEDED",
        vmId: vm.id,
        finishedAt: new Date(),
        steps: {
          create: [
            { index: 0, name: "copy", state: "DONE", startedAt: new Date(Date.now() - 4000), finishedAt: new Date() },
          ],
        },
      },
    });
    await presenceLoop().tick(loopCtx());
    const metrics = productMetrics(() => db).registry;
    const dnsCounted = async () => {
      await counters.flush();
      const lines = (await metrics.metrics()).matchAll(
        /^vmatrix_dns_queries_total\{transport="udp",outcome="(\w+)"\} (\d+)$/gm,
      );
      return [...lines].map((m) => ({ outcome: m[1]!, n: Number(m[2]) }));
    };
    const total = (rows: { n: number }[]) => rows.reduce((sum, r) => sum + r.n, 0);
    const before = total(await dnsCounted());
    // Three real queries over two flushes: one for a name in the zone, one outside it, the zone's SOA.
    for (const name of [`x.${ZONE}`, "example.org"]) await dnsAnswers("127.0.0.1", dns.port, name);
    await counters.flush();
    await dnsAnswers("127.0.0.1", dns.port, ZONE);
    const after = await dnsCounted();
    expect(total(after) - before).toBe(3);
    expect(after.map((r) => r.outcome)).not.toContain("dropped");

    const text = await metrics.metrics();
    expect(text).toContain('vmatrix_hosts{role="PRODUCTION",status="UP"} 1');
    expect(text).toContain('vmatrix_hosts{role="NEST",status="UNKNOWN"} 1');
    expect(text).toContain('vmatrix_alerts_open{severity="CRITICAL",kind="server-loss"} 1');
    expect(text).not.toContain('kind="host-down"');
    expect(text).toContain('vmatrix_operations{kind="ACTIVATE",state="SUCCEEDED"} 1');
    expect(text).toMatch(/vmatrix_operation_step_seconds\{step="copy",quantile="0.95"\} 4(\.\d+)?\n/);
    expect(text).toMatch(/vmatrix_host_heartbeat_age_seconds\{quantile="1"\} \d+(\.\d+)?\n/);
    // This test's oracle, and the first test's (stale, still listed with its age).
    expect(text.match(/^vmatrix_oracle_last_seen_seconds\{/gm)?.length).toBeGreaterThanOrEqual(1);
  });
});

describe("retention", () => {
  it("removes old demand, finished operations and resolved alerts, and keeps what is recent, running, open or audit", async () => {
    const w = await makeWorld(db);
    const day = 24 * 3600_000;
    const ago = (days: number) => new Date(Date.now() - days * day);
    await db.demandSample.createMany({
      data: [
        { serviceId: w.service.id, at: ago(40), lat: 1, lon: 1, count: 3 },
        { serviceId: w.service.id, at: ago(1), lat: 1, lon: 1, count: 4 },
      ],
    });
    const vm = await db.vm.create({ data: { name: "retention-vm", serviceId: w.service.id, phase: "NEST" } });
    const op = (state: "SUCCEEDED" | "FAILED" | "RUNNING", finishedDaysAgo: number | null, createdDaysAgo: number) =>
      db.operation.create({
        data: {
          kind: "HIBERNATE",
          state,
          vmId: vm.id,
          createdAt: ago(createdDaysAgo),
          finishedAt: finishedDaysAgo === null ? null : ago(finishedDaysAgo),
          steps: { create: [{ index: 0, name: "boot", state: "DONE" }] },
        },
      });
    const oldDone = await op("SUCCEEDED", 100, 100);
    const oldFailed = await op("FAILED", 95, 95);
    const recentDone = await op("SUCCEEDED", 2, 2);
    const oldRunning = await op("RUNNING", null, 120);
    const alert = (resolvedDaysAgo: number | null, createdDaysAgo: number) =>
      db.alert.create({
        data: {
          kind: "host-down",
          severity: "WARNING",
          message: "m",
          createdAt: ago(createdDaysAgo),
          resolvedAt: resolvedDaysAgo === null ? null : ago(resolvedDaysAgo),
        },
      });
    const oldResolved = await alert(91, 92);
    const oldOpen = await alert(null, 200);
    const recentResolved = await alert(3, 4);
    await db.auditEvent.create({
      data: { action: "test.old", entityType: "Test", entityId: "x", actorId: w.admin.id, at: ago(1000) },
    });
    const auditsBefore = await db.auditEvent.count();
    // Limit counters: an old fixed window and an old sign-in backoff go, a current window stays.
    await db.rateCounter.createMany({
      data: [
        { key: "pings:u1", windowStart: ago(2), count: 3 },
        { key: "pings:u1", windowStart: new Date(), count: 1 },
      ],
    });
    await db.signInBackoff.create({ data: { email: "old@x.test", failures: 5, lastFailureAt: ago(3) } });
    // Calls to oracles: a two-day-old one goes, one of this minute stays.
    const call = (createdAt: Date) =>
      db.oracleCall.create({ data: { kind: "host.probe", input: {}, state: "DONE", deadline: createdAt, createdAt } });
    await call(ago(2));
    const recentCall = await call(new Date());

    const report = await prune(db, { demandDays: 30, operationsDays: 90, alertsDays: 90 });
    expect(report).toEqual({ demandSamples: 1, operations: 2, alerts: 1, limitCounters: 2, oracleCalls: 1 });
    expect((await db.oracleCall.findMany()).map((c) => c.id)).toEqual([recentCall.id]);

    expect((await db.demandSample.findMany({ where: { serviceId: w.service.id } })).map((d) => d.count)).toEqual([4]);
    const ops = (await db.operation.findMany({ where: { vmId: vm.id } })).map((o) => o.id).sort();
    expect(ops).toEqual([recentDone.id, oldRunning.id].sort());
    expect(await db.operationStep.count({ where: { operationId: { in: [oldDone.id, oldFailed.id] } } })).toBe(0);
    const alerts = (await db.alert.findMany({ where: { id: { in: [oldResolved.id, oldOpen.id, recentResolved.id] } } }))
      .map((a) => a.id)
      .sort();
    expect(alerts).toEqual([oldOpen.id, recentResolved.id].sort());
    expect(await db.auditEvent.count()).toBe(auditsBefore);
    expect(await db.rateCounter.count()).toBe(1);
    // A second pass finds nothing more.
    expect(await prune(db, { demandDays: 30, operationsDays: 90, alertsDays: 90 })).toEqual({
      demandSamples: 0,
      operations: 0,
      alerts: 0,
      limitCounters: 0,
      oracleCalls: 0,
    });
  });
});
