import { expect, test } from "@playwright/test";
import { withE2eDatabase } from "./database";
import { signIn } from "./helpers";

// At a booked match's start time (moved to now here), the Oracle resumes a game VM from
// the Nest on the booked host in the sim lab; the clan admin sees the match live.
test.describe.configure({ timeout: 180_000 });

test("a booked match goes live on its host at start time", async ({ page }) => {
  const host = await withE2eDatabase(async (db) => {
    const { rows } = await db.query<{ host: string }>(
      `UPDATE "Match" m SET "startsAt" = now(), "endsAt" = now() + interval '1 hour'
         FROM "Host" h WHERE h.id = m."hostId" AND m."clanA" = 'Red Clan' AND m.status = 'SCHEDULED'
       RETURNING h.name AS host`,
    );
    return rows[0]?.host;
  });
  expect(host, "the seeded Red Clan vs Blue Clan match").toBeTruthy();

  await signIn(page, "clan@vmatrix.test");
  const row = page.getByTestId("matches").locator("tr", { hasText: "Red Clan vs Blue Clan" });
  await expect(async () => {
    await page.goto("/matches");
    await expect(row).toContainText("Live", { timeout: 2000 });
  }).toPass({ timeout: 120_000, intervals: [2000] });
  await expect(row).toContainText(host!);

  // The game VM really runs there: production, running, on the booked host.
  const vm = await withE2eDatabase(async (db) => {
    const { rows } = await db.query<{ name: string; phase: string; power: string; host: string }>(
      `SELECT v.name, v.phase, v.power, h.name AS host FROM "Match" m JOIN "Vm" v ON v.id = m."vmId" JOIN "Host" h ON h.id = v."hostId" WHERE m."clanA" = 'Red Clan'`,
    );
    return rows[0];
  });
  expect(vm).toMatchObject({ phase: "PRODUCTION", power: "RUNNING", host });
});
