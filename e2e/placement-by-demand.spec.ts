import { expect, test } from "@playwright/test";
import { vmatrixCli } from "./cli";
import { farthestFreeNetwork, withE2eDatabase } from "./database";
import { signIn } from "./helpers";

// Placement by demand from the browser (docs/operations.md, "Where a VM goes"): after a flash
// crowd far from every replica of the map service (`demand inject`), activating a pre-booted
// map VM takes it next to the crowd; deactivating it takes it to its own hosting network's Nest.
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

test("a flash crowd far from every map replica: an activated map VM goes there, and to that network's own Nest when deactivated", async ({
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
  // The crowd goes where the map service is farthest from its users: the hosting network
  // (with a free production host) farthest from every running map replica. (Earlier specs
  // move replicas: map.spec's Nairobi crowd has one put there.)
  const far = await withE2eDatabase((db) => farthestFreeNetwork(db, "map"));
  await vmatrixCli([
    "demand",
    "inject",
    `--at=${far.lat},${far.lon}`,
    "--service",
    "map",
    "--rate",
    "1000000",
    "--minutes",
    "30",
  ]);

  await signIn(page, "operator@vmatrix.test");
  await page.getByRole("link", { name: "VMs", exact: true }).click();
  const card = page.getByTestId(`vm-${vm}`);
  await card.getByRole("button", { name: "Activate…" }).click();
  const facts = card.getByTestId("placement-preview").getByTestId("placement");
  // The demand reaches the Oracle within a pass of the demand loop: ask again until it shows.
  await expect(async () => {
    await card.getByRole("button", { name: "Cancel" }).click();
    await card.getByRole("button", { name: "Activate…" }).click();
    await expect(facts).toContainText(new RegExp(`The Oracle's choice\\s*${far.slug}-prod-\\d+ in ${far.slug}`), {
      timeout: 3000,
    });
  }).toPass({ timeout: 90_000, intervals: [3000] });
  await card.getByRole("button", { name: "Yes, activate" }).click();
  await expect(card.getByRole("status")).toContainText("Requested");
  await expect.poll(async () => (await whereIs(vm))?.phase, { timeout: 90_000 }).toBe("PRODUCTION");
  expect((await whereIs(vm))?.host).toMatch(new RegExp(`^${far.slug}-prod-\\d+$`));

  // Leaving production, it stays in its own hosting network: its Nest has room.
  await page.getByRole("link", { name: "VMs", exact: true }).click();
  await card.getByRole("button", { name: "Deactivate…" }).click();
  await expect(card.getByTestId("placement")).toContainText("(same hosting network)");
  await expect(card.getByTestId("placement")).toContainText(new RegExp(`${far.slug}-nest-\\d+`));
  await card.getByRole("button", { name: "Yes, deactivate" }).click();
  await expect.poll(async () => (await whereIs(vm))?.phase, { timeout: 90_000 }).toBe("NEST");
  expect((await whereIs(vm))?.host).toMatch(new RegExp(`^${far.slug}-nest-\\d+$`));
});
