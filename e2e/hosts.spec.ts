import { expect, test } from "@playwright/test";
import { signIn } from "./helpers";

test("hosts answer their heartbeats over SSH and show as Up", async ({ page }) => {
  await signIn(page, "manager@vmatrix.test");
  await page.getByRole("link", { name: "Hosts" }).click();
  const tokyo = page.getByTestId("hosts-tokyo");
  await expect(tokyo.locator("tr", { hasText: "tokyo-nest-1" })).toContainText("Up", { timeout: 30_000 });
  await expect(tokyo.locator("tr", { hasText: "tokyo-prod-1" })).toContainText(/\d+(\.\d)? s ago|ms ago/);
  // The owner segments whose bridges each host has (where VMs of those owners may run).
  await expect(tokyo.locator("tr", { hasText: "tokyo-prod-1" })).toContainText("segments 1–16");
  // A fresh world's edges got the product's firewall from the network pass: nothing drifts.
  await expect(page.getByText(/Network drift at edge/)).toHaveCount(0);
});

test("the add-host form names bad fields, and an unreachable host is explained in words", async ({ page }) => {
  await signIn(page, "operator@vmatrix.test");
  await page.getByRole("link", { name: "Hosts" }).click();
  await page.getByRole("button", { name: "Add a host…" }).click();
  const form = page.getByRole("form", { name: "Add a host" });
  await form.getByLabel("Name").fill("Bad Name; rm -rf /");
  await form.getByLabel("SSH address").fill("$(reboot)");
  await form.getByRole("button", { name: "Read host key" }).click();
  await expect(form.getByText("must start with a letter")).toBeVisible();
  await expect(form.getByText("must be an IP address or a host name")).toBeVisible();
  await expect(form.getByText("is required")).toBeVisible(); // hosting network

  await form.getByLabel("Name").fill("new-host-1");
  await form.getByLabel("Hosting network").selectOption({ label: "Tokyo, JP" });
  await form.getByLabel("SSH address").fill("127.0.0.1");
  await form.getByLabel("SSH port").fill("1");
  await form.getByLabel("Private key (file:/path or env:VAR)").fill("file:/tmp/none");
  await form.getByRole("button", { name: "Read host key" }).click();
  await expect(form.getByRole("alert")).toContainText(/unreachable at 127\.0\.0\.1:1/);
});
