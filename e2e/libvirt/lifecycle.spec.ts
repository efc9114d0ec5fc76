import { expect, test, type Page } from "@playwright/test";
import { signIn } from "../helpers";

// Issue 4's "done when" on real hosts: from the UI, a pre-booted VM of the libvirt lab goes
// Nest → Production (where it serves HTTP, resumed: the boot it was saved with) → Loading
// Chambers → Nest, each operation followed live on the Operations page.
test.describe.configure({ timeout: 600_000 });

const VM = "map-lv-1";
// The world's first map VM (scripts/lib/libvirt-world.ts), on the lab's segment 1, which this (root) namespace reaches.
const ADDRESS = "10.77.0.201";

async function act(page: Page, column: string, action: string, confirm: string) {
  await page.getByRole("link", { name: "VMs", exact: true }).click();
  const card = page.getByTestId(`vm-${VM}`);
  await expect(page.getByTestId(`phase-${column}`).getByTestId(`vm-${VM}`)).toBeVisible();
  await card.getByRole("button", { name: `${action}…` }).click();
  await card.getByRole("button", { name: confirm }).click();
  await expect(card.getByRole("status")).toContainText("Requested");
}

async function followOnOperationsPage(page: Page, kind: string, steps: string[]) {
  await page.getByRole("link", { name: "Operations", exact: true }).click();
  const row = page.getByTestId(`operation-${VM}`).filter({ hasText: kind }).first();
  await expect(row).toBeVisible();
  await row.getByRole("button").first().click();
  // Live: steps turn done one after another without a reload, until the row succeeds.
  const detail = page.locator("tr.detail").first();
  await expect(detail.locator('li[data-state="DONE"]').first()).toBeVisible({ timeout: 120_000 });
  await expect(row).toHaveAttribute("data-state", "SUCCEEDED", { timeout: 180_000 });
  for (const step of steps) await expect(detail.locator(`li[data-state="DONE"]`, { hasText: step }).first()).toBeVisible();
}

async function guestStatus(): Promise<{ name: string; bootId: string } | null> {
  try {
    const res = await fetch(`http://${ADDRESS}/cgi-bin/status`, { signal: AbortSignal.timeout(3000) });
    return res.ok ? ((await res.json()) as { name: string; bootId: string }) : null;
  } catch {
    return null;
  }
}

test("an operator takes a real guest from the Nest to production (it serves HTTP), to the Loading Chambers and back to the Nest", async ({ page }) => {
  expect(await guestStatus(), "saved in the Nest, the guest does not answer").toBeNull();
  await signIn(page, "operator@vmatrix.test");

  await act(page, "NEST", "Activate", "Yes, activate");
  await followOnOperationsPage(page, "Activate", ["suspend", "copy disk", "copy state", "register", "resume", "bind", "record", "clean source"]);
  // In production it serves HTTP: the same guest, resumed (it was booted once, before it was saved in the Nest).
  await expect.poll(async () => (await guestStatus())?.name ?? null, { timeout: 30_000 }).toBe(VM);
  const booted = (await guestStatus())!.bootId;

  await act(page, "PRODUCTION", "To Loading Chambers", "Yes, to loading chambers");
  await followOnOperationsPage(page, "Deactivate", ["drain", "suspend", "copy disk", "record"]);

  await act(page, "LOADING", "Hibernate", "Yes, hibernate");
  await followOnOperationsPage(page, "Hibernate", ["boot", "suspend", "copy state", "record"]);
  await page.getByRole("link", { name: "VMs", exact: true }).click();
  await expect(page.getByTestId("phase-NEST").getByTestId(`vm-${VM}`)).toContainText("Saved");
  expect(await guestStatus(), "hibernated again, it does not answer").toBeNull();

  // Its page tells the story, newest first.
  await page.getByRole("link", { name: VM }).click();
  const history = page.getByTestId("vm-history");
  await expect(history.locator("> li")).toHaveCount(3);
  await expect(history.locator("> li").nth(2)).toContainText("Activate");
  expect(booted).toMatch(/^[0-9a-f-]{36}$/);
});
