import { createHash, randomUUID } from "node:crypto";
import { expect, test } from "@playwright/test";
import { withE2eDatabase } from "./database";
import { signIn } from "./helpers";

// An operator confirms a host's changed SSH key on the Hosts page: the page shows the pinned
// fingerprint beside the one the host presents now, and only a confirmation pins the new one
// (the host is trusted again, its alert ends, both steps are audited). The "change" is made
// in the database: the host's pinned fingerprint is replaced with another, as if the host had
// been reinstalled, and the sim host keeps presenting its real key.

const OLD = `SHA256:${createHash("sha256").update(`e2e-old-key-${randomUUID()}`).digest("base64").replace(/=+$/, "")}`;

test("an operator reviews and confirms a host's changed SSH key in the browser", async ({ page }) => {
  const host = await withE2eDatabase(async (db) => {
    const { rows } = await db.query<{ id: string; name: string; fp: string; slug: string }>(
      `SELECT h.id, h.name, h."hostKeyFingerprint" AS fp, hn.slug
         FROM "Host" h JOIN "HostingNetwork" hn ON hn.id = h."hostingNetworkId"
        WHERE h.role = 'LOADING' AND h."retiredAt" IS NULL AND h."hostKeyTrust" = 'TRUSTED'
          AND NOT EXISTS (SELECT 1 FROM "Vm" v WHERE v."hostId" = h.id)
        ORDER BY h.name LIMIT 1`,
    );
    const h = rows[0]!;
    await db.query(
      `UPDATE "Host" SET "hostKeyFingerprint" = $2, "hostKeyTrust" = 'MISMATCH', status = 'DOWN' WHERE id = $1`,
      [h.id, OLD],
    );
    await db.query(
      `INSERT INTO "Alert" (id, kind, severity, message, "hostId", "createdAt")
       VALUES ($1, 'host-key-mismatch', 'CRITICAL', $2, $3, now())`,
      [`e2e-key-${randomUUID()}`, `Host ${h.name} presented a different SSH host key (e2e).`, h.id],
    );
    return h;
  });

  await signIn(page, "operator@vmatrix.test");
  await page.getByRole("link", { name: "Hosts" }).click();
  const row = page.getByTestId(`hosts-${host.slug}`).locator("tr", { hasText: host.name });
  await expect(row).toContainText("host key changed");
  await row.getByRole("button", { name: "Review new key…" }).click();
  const review = row.getByTestId(`review-key-${host.name}`);
  await expect(review).toContainText(`Pinned key: ${OLD}`);
  await expect(review).toContainText(`Presented now: ${host.fp}`);
  await review.getByRole("button", { name: "Confirm the new key" }).click();
  await expect(row).toContainText(`The new key of ${host.name} is pinned; the host is trusted again.`);
  await expect(row).not.toContainText("host key changed");

  const after = await withE2eDatabase(async (db) => {
    const { rows } = await db.query<{ fp: string; trust: string; open: number; audits: string[] }>(
      `SELECT h."hostKeyFingerprint" AS fp, h."hostKeyTrust"::text AS trust,
              (SELECT count(*)::int FROM "Alert" a WHERE a."hostId" = h.id AND a.kind = 'host-key-mismatch' AND a."resolvedAt" IS NULL) AS open,
              ARRAY(SELECT e.action FROM "AuditEvent" e WHERE e."entityId" = h.id AND e.action LIKE 'host.%Key' ORDER BY e.at) AS audits
         FROM "Host" h WHERE h.id = $1`,
      [host.id],
    );
    return rows[0];
  });
  expect(after).toEqual({ fp: host.fp, trust: "TRUSTED", open: 0, audits: ["host.reviewKey", "host.confirmKey"] });
});
