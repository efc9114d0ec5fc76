import { expect, test } from "@playwright/test";
import { signIn } from "./helpers";
import { act as actOn, followOnOperationsPage as follow } from "./lifecycle-steps";

// A VM's round trip through the lifecycle (thesis §3.2) from the UI, on the sim lab's
// real SSH hosts: Nest → Production → Loading Chambers → Nest, each step live on the
// Operations page and in the VM's history.
test.describe.configure({ timeout: 240_000 });

// A map VM: the map service is steered by people (replica targets), never by the autoscaler,
// so nothing but this test moves it while it runs.
const VM = "map-002";
const act = (page: Parameters<typeof actOn>[0], column: string, action: string, confirm: string) =>
  actOn(page, VM, column, action, confirm);
const followOnOperationsPage = (page: Parameters<typeof follow>[0], kind: string, steps: string[]) =>
  follow(page, VM, kind, steps);

test("an operator takes a VM from the Nest to production, to the Loading Chambers and back to the Nest", async ({
  page,
}) => {
  await signIn(page, "operator@vmatrix.test");

  // Before anything moves, the dialog shows where the Oracle would put the VM and why (a dry
  // run of the very decision the request makes), and offers every other hosting network.
  await page.getByRole("link", { name: "VMs", exact: true }).click();
  const card = page.getByTestId(`vm-${VM}`);
  await card.getByRole("button", { name: "Activate…" }).click();
  const preview = card.getByTestId("placement-preview");
  const facts = preview.getByTestId("placement");
  await expect(facts).toContainText(/The Oracle's choice\s*\S+-prod-\d+ in \S+ \(by demand\)/);
  await expect(facts).toContainText(
    /Demand-weighted RTT\s*(no replica yet|\d+\.\d ms) → \d+\.\d ms \(\d+ demand cells, last 60 min\)/,
  );
  await expect(facts).toContainText(/VM files\s*\d+ MiB from \S+/);
  await expect(facts).toContainText(/Runner-up\s*\S+ in \S+ lost on /);
  const picker = preview.getByLabel("Hosting network");
  await expect(picker.locator("option").first()).toHaveText(/^The Oracle's choice: .+/);
  await expect(picker.locator("option").nth(1)).toHaveText(/^.+ — \d+\.\d ms, ≈ .+$/);
  const oracleHost = (await facts.locator("dd strong").first().textContent())!;
  // Another hosting network: the same decision within it.
  await picker.selectOption({ index: 3 });
  await expect(facts).toContainText("Your choice");
  await expect(facts.locator("dd strong").first()).not.toHaveText(oracleHost);
  await picker.selectOption({ index: 0 });
  await expect(facts).toContainText("The Oracle's choice");
  await card.getByRole("button", { name: "Yes, activate" }).click();
  await expect(card.getByRole("status")).toContainText("Requested");
  await followOnOperationsPage(page, "Activate", [
    "suspend",
    "copy disk",
    "copy state",
    "register",
    "resume",
    "bind",
    "record",
    "clean source",
  ]);

  // Leaving production, it stays in its own hosting network: its Loading Chambers host has room.
  await page.getByRole("link", { name: "VMs", exact: true }).click();
  await card.getByRole("button", { name: "To Loading Chambers…" }).click();
  await expect(card.getByTestId("placement")).toContainText("(same hosting network)");
  await card.getByRole("button", { name: "Cancel" }).click();
  await act(page, "PRODUCTION", "To Loading Chambers", "Yes, to loading chambers");
  await followOnOperationsPage(page, "Deactivate", ["drain", "suspend", "copy disk", "record"]);

  await act(page, "LOADING", "Hibernate", "Yes, hibernate");
  await followOnOperationsPage(page, "Hibernate", ["boot", "suspend", "copy state", "record"]);

  await page.getByRole("link", { name: "VMs", exact: true }).click();
  await expect(page.getByTestId("phase-NEST").getByTestId(`vm-${VM}`)).toContainText("Saved");

  // The VM's page tells the story, newest first.
  await page.getByRole("link", { name: VM }).click();
  const history = page.getByTestId("vm-history");
  await expect(history.locator("> li")).toHaveCount(3);
  await expect(history.locator("> li").nth(0)).toContainText("Hibernate");
  await expect(history.locator("> li").nth(1)).toContainText("Deactivate");
  await expect(history.locator("> li").nth(2)).toContainText("Activate");
});

test("a delete asks first, and can be called off", async ({ page }) => {
  await signIn(page, "operator@vmatrix.test");
  await page.getByRole("link", { name: "VMs", exact: true }).click();
  const card = page.getByTestId("vm-finance-002");
  await card.getByRole("button", { name: "Delete…" }).click();
  await expect(card.getByRole("group", { name: "Confirm delete" })).toContainText("This cannot be undone.");
  await card.getByRole("button", { name: "Cancel" }).click();
  await expect(card.getByRole("button", { name: "Delete…" })).toBeVisible();
});
