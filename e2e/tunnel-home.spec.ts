import { expect, test } from "@playwright/test";
import { vmatrixCli } from "./cli";
import { signIn } from "./helpers";

// Declaring a two-tier service from a VM's page (thesis §4.3.2, issue 8): an operator sets
// the owner's back end, the Oracle's network loop gives every serving replica a tunnel home
// at its edge (sim lab), and clearing it takes the tunnels away. The finance service is used
// so the map service's panel (network.spec.ts) stays as seeded.
test.describe.configure({ timeout: 240_000 });

const KEY = "cshFUlacQtbr6i5oYCCzV1ENW/wtHuJlbn5DU76+jDs=";

test("an operator makes finance two-tier from a VM's page: bad fields are named, the tunnel home appears at its edge, and clearing removes it", async ({
  page,
}) => {
  const vms = JSON.parse(await vmatrixCli(["vms", "list", "--json"])) as {
    name: string;
    service: string;
    phase: string;
  }[];
  const vm = vms.find((v) => v.service === "finance" && v.phase === "PRODUCTION");
  expect(vm, "a seeded production VM of finance").toBeTruthy();

  await signIn(page, "operator@vmatrix.test");
  await page.goto(`/vms/${vm!.name}`);
  const home = page.getByTestId("tunnel-home");
  await expect(home.getByTestId("backend-none")).toContainText("one-tier");

  await home.getByRole("button", { name: "Set back end…" }).click();
  const form = home.getByRole("form", { name: "Back end" });
  await form.getByLabel("Endpoint (host:port)").fill("203.0.113.50:51820");
  await form.getByLabel("Public key (WireGuard, base64)").fill("not-a-key");
  await form.getByLabel("Back-end network (CIDR)").fill("10.88.0.0/24");
  await form.getByRole("button", { name: "Save back end" }).click();
  // The API's reason, under the field it is about; nothing was written.
  await expect(form.locator("#backend-backendPublicKey-error")).toContainText("is not a WireGuard key");
  expect(JSON.parse(await vmatrixCli(["network", "backend", "finance", "--json"]))).toMatchObject({ twoTier: false });

  await form.getByLabel("Public key (WireGuard, base64)").fill(KEY);
  await form.getByRole("button", { name: "Save back end" }).click();
  await expect(home.getByTestId("backend-endpoint")).toHaveText("203.0.113.50:51820");
  await expect(home.getByTestId("backend-key")).toHaveText(KEY);
  // The network loop (every 15 s) makes the tunnel at this VM's edge; the panel shows it.
  await expect(home.locator("dd", { hasText: /^vmxwg\d+, Applied/ })).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("vm-network").locator("table tbody tr").first()).toContainText(/vmxwg\d+/);

  await home.getByRole("button", { name: "Clear back end…" }).click();
  await home
    .getByRole("group", { name: "Confirm clearing the back end" })
    .getByRole("button", { name: "Yes, clear" })
    .click();
  await expect(home.getByTestId("backend-none")).toBeVisible();
  // …and the loop takes the tunnel away again.
  await expect(home.getByTestId("backend-none")).not.toContainText("still being removed", { timeout: 60_000 });
  await expect(page.getByTestId("vm-network").locator("table tbody tr").first()).not.toContainText(/vmxwg\d+/, {
    timeout: 30_000,
  });
});
