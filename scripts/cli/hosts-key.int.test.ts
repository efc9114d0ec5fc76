import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpsLab, type OpsLab } from "../../test/ops-lab";
import { withCliApi } from "../../test/run-cli";
import { startCallsOracle } from "../../test/calls-oracle";

// `hosts confirm-key` against a real SSH host (the sim lab): a host whose key changed shows
// the pinned and the presented fingerprints, and is trusted again only once the operator
// names the presented one; a wrong fingerprint is refused and changes nothing.
// The API asks an oracle to read the host's key (the web process opens no SSH session).
let t: OpsLab;
let oracle: Awaited<ReturnType<typeof startCallsOracle>> | undefined;
beforeAll(async () => {
  t = await startOpsLab();
  oracle = await startCallsOracle(t);
});
afterAll(async () => {
  await oracle?.stop();
  await t?.stop();
});
const { cli } = withCliApi(() => t);

/** A well-formed fingerprint of some other key (what was pinned before the "change"). */
const OLD = `SHA256:${createHash("sha256").update("the host's previous key").digest("base64").replace(/=+$/, "")}`;

describe("hosts confirm-key", () => {
  it("shows both fingerprints, refuses a wrong one, and pins the presented one", async () => {
    const host = await t.db.host.findUniqueOrThrow({ where: { name: "ops-prod-a" } });
    const real = host.hostKeyFingerprint!;
    // The host "changed" its key: what the heartbeat records when the pinned key no longer matches.
    await t.db.host.update({
      where: { id: host.id },
      data: { hostKeyFingerprint: OLD, hostKeyTrust: "MISMATCH", status: "DOWN" },
    });
    const alert = await t.db.alert.create({
      data: { kind: "host-key-mismatch", severity: "CRITICAL", hostId: host.id, message: "key changed" },
    });

    const shown = await cli("hosts", "confirm-key", "ops-prod-a");
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      name: "ops-prod-a",
      trust: "MISMATCH",
      pinned: OLD,
      presented: real,
      changed: true,
      confirm: `hosts confirm-key ops-prod-a --fingerprint ${real}`,
    });
    expect(shown.stderr).toContain(`ops-prod-a presents ${real}, pinned is ${OLD}`);

    const wrong = await cli("hosts", "confirm-key", "ops-prod-a", "--fingerprint", OLD);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim()).toBe(`vmatrix: The host now presents ${real}, not the fingerprint you confirmed.`);
    expect(await t.db.host.findUniqueOrThrow({ where: { id: host.id } })).toMatchObject({ hostKeyTrust: "MISMATCH" });

    const ok = await cli("hosts", "confirm-key", "ops-prod-a", "--fingerprint", real);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ name: "ops-prod-a", hostKeyFingerprint: real, hostKeyTrust: "TRUSTED" });
    expect((await t.db.alert.findUniqueOrThrow({ where: { id: alert.id } })).resolvedAt).not.toBeNull();
    const audits = await t.db.auditEvent.findMany({ where: { entityId: host.id }, orderBy: { at: "asc" } });
    expect(audits.map((a) => a.action)).toEqual(["host.reviewKey", "host.confirmKey"]);
  });
});
