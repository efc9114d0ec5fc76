import { expect, type Page } from "@playwright/test";

/**
 * A VM's lifecycle as an operator drives it from the UI (thesis §3.2), for the sim lab's
 * and the libvirt lab's browser tests: an action on the VMs board, confirmed, then the
 * operation followed live on the Operations page until every step is done.
 */

export async function act(page: Page, vm: string, column: string, action: string, confirm: string) {
  await page.getByRole("link", { name: "VMs", exact: true }).click();
  const card = page.getByTestId(`vm-${vm}`);
  await expect(page.getByTestId(`phase-${column}`).getByTestId(`vm-${vm}`)).toBeVisible();
  await card.getByRole("button", { name: `${action}…` }).click();
  await card.getByRole("button", { name: confirm }).click();
  await expect(card.getByRole("status")).toContainText("Requested");
}

/** Live: the row reaches Succeeded without a reload (within `timeoutMs`), and its steps show as done. */
export async function followOnOperationsPage(
  page: Page,
  vm: string,
  kind: string,
  steps: string[],
  timeoutMs = 90_000,
) {
  await page.getByRole("link", { name: "Operations", exact: true }).click();
  const row = page.getByTestId(`operation-${vm}`).filter({ hasText: kind }).first();
  await expect(row).toBeVisible();
  await row.getByRole("button").first().click();
  await expect(row).toHaveAttribute("data-state", "SUCCEEDED", { timeout: timeoutMs });
  const detail = page.locator("tr.detail").first();
  for (const step of steps)
    await expect(detail.locator(`li[data-state="DONE"]`, { hasText: step }).first()).toBeVisible();
}
