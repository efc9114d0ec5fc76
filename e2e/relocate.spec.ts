import { expect, test } from "@playwright/test";
import { withE2eDatabase } from "./database";
import { signIn } from "./helpers";

// A serving VM moved closer to its users (thesis §4.2) from its own page, on the sim lab's
// real SSH hosts: the Relocate… dialog shows the Oracle's choice (a dry run) and lets the
// operator pick another hosting network; the VM then serves from there, same name, and its
// history shows the relocation with its service gap and the bytes moved.
test.describe.configure({ timeout: 240_000 });

test("an operator relocates a serving VM to another hosting network from its page", async ({ page }) => {
  await signIn(page, "operator@vmatrix.test");
  await page.getByRole("link", { name: "VMs", exact: true }).click();
  // A map VM serving and idle (people steer the map service, never the autoscaler); map-002 is the lifecycle spec's.
  const card = page
    .getByTestId("phase-PRODUCTION")
    .locator('[data-testid^="vm-map-"]')
    .filter({ hasNotText: "map-002" })
    .filter({ has: page.getByRole("button", { name: "Relocate…", disabled: false }) })
    .first();
  const name = (await card.getAttribute("data-testid"))!.slice("vm-".length);
  // Serving means in rotation: the Oracle's network loop binds the seeded replicas in its first passes.
  await expect
    .poll(
      () =>
        withE2eDatabase(async (db) => {
          const { rows } = await db.query<{ n: string }>(
            `SELECT count(*) AS n FROM "NetworkBinding" b JOIN "Vm" v ON v.id = b."vmId" WHERE v.name = $1 AND b.state = 'APPLIED'`,
            [name],
          );
          return Number(rows[0]!.n);
        }),
      { timeout: 120_000 },
    )
    .toBeGreaterThan(0);
  await page.getByRole("link", { name, exact: true }).click();
  const facts = page.getByTestId("vm-facts");
  const before = (await facts.locator("dd").nth(2).textContent())!;

  await page.getByRole("button", { name: "Relocate…" }).click();
  const dialog = page.getByRole("group", { name: "Confirm relocate" });
  await expect(dialog).toContainText("saved with its memory");
  const preview = dialog.getByTestId("placement-preview");
  await expect(preview.getByTestId("placement")).toContainText(
    /The Oracle's choice\s*\S+-prod-\d+ in \S+ \(by demand\)/,
  );
  // Another hosting network than the Oracle's: the same decision within it.
  const picker = preview.getByLabel("Hosting network");
  await picker.selectOption({ index: 2 });
  await expect(preview.getByTestId("placement")).toContainText("Your choice");
  const city = (await picker.locator("option").nth(2).textContent())!.split(" — ")[0]!;
  await dialog.getByRole("button", { name: "Yes, relocate" }).click();
  await expect(page.locator(".actions").getByRole("status")).toContainText("Requested");

  const latest = page.getByTestId("vm-history").locator("> li").first();
  await expect(async () => {
    await page.reload();
    await expect(latest).toContainText("Relocate");
    await expect(latest).toContainText("Succeeded");
  }).toPass({ timeout: 120_000 });
  await expect(latest.getByTestId("service-gap")).toContainText(/Service gap .+ moved/);
  await expect(facts.locator("dd").nth(1)).toHaveText("Production");
  await expect(facts.locator("dd").nth(2)).toContainText(`(${city})`);
  expect(await facts.locator("dd").nth(2).textContent()).not.toBe(before);
  await expect(page.locator("h1")).toContainText("Running");
});
