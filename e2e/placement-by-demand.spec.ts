import { expect, test } from "@playwright/test";
import { vmatrixCli } from "./cli";
import { withE2eDatabase } from "./database";
import { signIn } from "./helpers";

// Placement by demand from the browser (docs/operations.md, "Where a VM goes"): after a flash
// crowd far from every replica of the map service, activating a pre-booted map VM takes it
// next to the crowd; deactivating it takes it to its own hosting network's Nest.
test.describe.configure({ timeout: 240_000 });

/** Where a VM is now: phase and host. */
const whereIs = (name: string) =>
  withE2eDatabase(async (db) => {
    const { rows } = await db.query<{ phase: string; host: string | null }>(
      `SELECT v.phase, h.name AS host FROM "Vm" v LEFT JOIN "Host" h ON h.id = v."hostId" WHERE v.name = $1`,
      [name],
    );
    return rows[0];
  });

test("a flash crowd in Nairobi: an activated map VM goes there, and back to Nairobi's own Nest when deactivated", async ({
  page,
}) => {
  // A pre-booted map VM other than the lifecycle test's.
  const vm = await withE2eDatabase(async (db) => {
    const { rows } = await db.query<{ name: string }>(
      `SELECT v.name FROM "Vm" v JOIN "Service" s ON s.id = v."serviceId"
        WHERE s.slug = 'map' AND v.phase = 'NEST' AND v.power = 'SAVED' AND v."deletedAt" IS NULL AND v.name <> 'map-002'
        ORDER BY v.name LIMIT 1`,
    );
    return rows[0]!.name;
  });
  // No map replica runs in Africa; Nairobi's users arrive in force.
  await vmatrixCli(["demand", "inject", "--at=-1.29,36.82", "--service", "map", "--rate", "200000", "--minutes", "30"]);

  await signIn(page, "operator@vmatrix.test");
  await page.getByRole("link", { name: "VMs", exact: true }).click();
  const card = page.getByTestId(`vm-${vm}`);
  await card.getByRole("button", { name: "Activate…" }).click();
  const facts = card.getByTestId("placement-preview").getByTestId("placement");
  // The demand reaches the Oracle within a pass of the demand loop: ask again until it shows.
  await expect(async () => {
    await card.getByRole("button", { name: "Cancel" }).click();
    await card.getByRole("button", { name: "Activate…" }).click();
    await expect(facts).toContainText(/The Oracle's choice\s*nairobi-prod-\d+ in nairobi/, { timeout: 3000 });
  }).toPass({ timeout: 90_000, intervals: [3000] });
  await card.getByRole("button", { name: "Yes, activate" }).click();
  await expect(card.getByRole("status")).toContainText("Requested");
  await expect.poll(async () => (await whereIs(vm))?.phase, { timeout: 90_000 }).toBe("PRODUCTION");
  expect((await whereIs(vm))?.host).toMatch(/^nairobi-prod-\d+$/);

  // Leaving production, it stays in its own hosting network: Nairobi's Nest has room.
  await page.getByRole("link", { name: "VMs", exact: true }).click();
  await card.getByRole("button", { name: "Deactivate…" }).click();
  await expect(card.getByTestId("placement")).toContainText("(same hosting network)");
  await expect(card.getByTestId("placement")).toContainText(/nairobi-nest-\d+/);
  await card.getByRole("button", { name: "Yes, deactivate" }).click();
  await expect.poll(async () => (await whereIs(vm))?.phase, { timeout: 90_000 }).toBe("NEST");
  expect((await whereIs(vm))?.host).toMatch(/^nairobi-nest-\d+$/);
});
