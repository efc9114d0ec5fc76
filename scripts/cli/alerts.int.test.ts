import { describe, expect, it } from "vitest";
import { ALERT_KIND } from "../../server/alerts";
import { withCliWorld } from "../../test/run-cli";

// `alerts …` as an operator's terminal runs it: a separate process on the test world's database.
const t = withCliWorld();

interface AlertRow {
  id: string;
  kind: string;
  severity: string;
  message: string;
  host: string | null;
  hostingNetwork: string | null;
  vm: string | null;
  createdAt: string;
  resolvedAt: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  acknowledged?: boolean;
  note?: string | null;
}

describe("vmatrix alerts", () => {
  it("says so when nothing is open", async () => {
    const r = await t.cli("alerts", "list");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("No open alerts.");
    const json = await t.cli("alerts", "list", "--json");
    expect(JSON.parse(json.stdout)).toEqual([]);
  });

  it("lists open alerts as JSON objects, newest first; --all adds the resolved ones", async () => {
    const { db, w } = t;
    const open = await db.alert.create({
      data: {
        kind: ALERT_KIND.hostDown,
        severity: "CRITICAL",
        message: `Host ${w.prod.name} does not answer.`,
        hostId: w.prod.id,
        hostingNetworkId: w.hn.id,
        createdAt: new Date("2026-04-02T10:00:00Z"),
      },
    });
    const drift = await db.alert.create({
      data: {
        kind: ALERT_KIND.networkDrift,
        severity: "WARNING",
        message: "Network drift at edge e1",
        hostingNetworkId: w.hn.id,
        createdAt: new Date("2026-04-01T10:00:00Z"),
      },
    });
    const resolved = await db.alert.create({
      data: {
        kind: ALERT_KIND.unexpectedVm,
        severity: "WARNING",
        message: "stray",
        hostId: w.nest.id,
        createdAt: new Date("2026-04-03T10:00:00Z"),
        resolvedAt: new Date("2026-04-03T11:00:00Z"),
      },
    });

    const r = await t.cli("alerts", "list", "--json");
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as AlertRow[];
    expect(rows.map((a) => a.id)).toEqual([open.id, drift.id]);
    expect(rows[0]).toEqual({
      id: open.id,
      kind: "host-down",
      severity: "CRITICAL",
      message: `Host ${w.prod.name} does not answer.`,
      host: w.prod.name,
      hostingNetwork: w.hn.slug,
      vm: null,
      createdAt: "2026-04-02T10:00:00.000Z",
      resolvedAt: null,
      acknowledgedAt: null,
      acknowledgedBy: null,
    });
    expect(rows[1]).toMatchObject({ kind: "network-drift", host: null, hostingNetwork: w.hn.slug });

    const all = await t.cli("alerts", "list", "--json", "--all");
    expect(all.code, all.stderr).toBe(0);
    const allRows = JSON.parse(all.stdout) as AlertRow[];
    expect(allRows.map((a) => a.id)).toEqual([resolved.id, open.id, drift.id]);
    expect(allRows[0]).toMatchObject({ resolvedAt: "2026-04-03T11:00:00.000Z", host: w.nest.name });

    const text = await t.cli("alerts", "list");
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(open.id);
    expect(text.stdout).toContain(`Host ${w.prod.name} does not answer.`);
    expect(text.stdout).not.toContain(resolved.id);
  });

  it("acknowledges by id (recorded, audited as the CLI's user); again changes nothing and says so", async () => {
    const { db } = t;
    const alert = await db.alert.findFirstOrThrow({ where: { kind: ALERT_KIND.hostDown, resolvedAt: null } });
    const r = await t.cli("alerts", "ack", alert.id);
    expect(r.code, r.stderr).toBe(0);
    const acked = JSON.parse(r.stdout) as AlertRow;
    expect(acked).toMatchObject({ id: alert.id, acknowledged: true, note: null, resolvedAt: null });
    expect(acked.acknowledgedAt).toEqual(expect.any(String));
    expect(acked.acknowledgedBy).toBe(t.api.operator.email);
    const row = await db.alert.findUniqueOrThrow({ where: { id: alert.id } });
    expect(row).toMatchObject({ acknowledgedById: t.api.operator.id, resolvedAt: null });
    expect(row.acknowledgedAt?.toISOString()).toBe(acked.acknowledgedAt);
    const audit = await db.auditEvent.findFirstOrThrow({ where: { entityType: "Alert", entityId: alert.id } });
    expect(audit).toMatchObject({
      action: "alert.acknowledge",
      actorId: t.api.operator.id,
      actorEmail: t.api.operator.email,
    });

    // Still listed as open, now with who acknowledged it.
    const list = JSON.parse((await t.cli("alerts", "list", "--json")).stdout) as AlertRow[];
    expect(list.find((a) => a.id === alert.id)).toMatchObject({ acknowledgedAt: acked.acknowledgedAt });

    const again = await t.cli("alerts", "ack", alert.id);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(
      `Alert ${alert.id} was already acknowledged by CLI operator (${t.api.operator.email}) at ${acked.acknowledgedAt}`,
    );
    expect(JSON.parse(again.stdout)).toMatchObject({ acknowledged: false, acknowledgedAt: acked.acknowledgedAt });
  });

  it("names the field of bad input in one line and exits 1", async () => {
    const unknown = await t.cli("alerts", "ack", "nope");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe("vmatrix: id: no alert with id nope.");

    const blank = await t.cli("alerts", "ack", " ");
    expect(blank.code).toBe(1);
    expect(blank.stderr.trim()).toBe("vmatrix: id: is required");

    const missing = await t.cli("alerts", "ack");
    expect(missing.code).toBe(1);
    expect(missing.stderr.split("\n")[0]).toBe("vmatrix: ID: name the alert: alerts ack ID (ids from alerts list)");

    const limit = await t.cli("alerts", "list", "--limit", "0");
    expect(limit.code).toBe(1);
    expect(limit.stderr.split("\n")[0]).toBe("vmatrix: --limit must be a whole number from 1 to 500");
  });
});
