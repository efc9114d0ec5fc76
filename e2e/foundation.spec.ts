import { expect, test } from "@playwright/test";
import { signIn } from "./helpers";

const ROLES = [
  { email: "admin@vmatrix.test", label: "Administrator", infrastructure: true },
  { email: "operator@vmatrix.test", label: "Operator", infrastructure: true },
  { email: "manager@vmatrix.test", label: "Manager (read only)", infrastructure: true },
  // An outside customer: the map and matches, no infrastructure pages (docs/security.md).
  { email: "clan@vmatrix.test", label: "Clan admin", infrastructure: false },
];

test("signed-out visitors are sent to sign in, and bad sign-ins are explained", async ({ page }) => {
  await page.goto("/hosts");
  await expect(page).toHaveURL(/\/signin$/);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("Enter your email address.")).toBeVisible();
  await expect(page.getByText("Enter your password.")).toBeVisible();
  await page.getByLabel("Email").fill("operator@vmatrix.test");
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator("form").getByRole("alert")).toHaveText("Wrong email or password.");
});

for (const role of ROLES) {
  test(`${role.label} signs in and sees the demo world on every page of theirs`, async ({ page }) => {
    await signIn(page, role.email);
    await expect(page.getByTestId("role")).toHaveText(role.label);

    await expect(page.getByTestId("hosting-networks")).toContainText("Tokyo, JP");
    await expect(page.getByTestId("hosting-networks").locator("tbody tr")).toHaveCount(39);
    await expect(page.getByTestId("replica-targets")).toContainText("Map service");

    await page.getByRole("link", { name: "Matches" }).click();
    await expect(page.getByTestId("matches")).toContainText("Red Clan vs Blue Clan");

    if (!role.infrastructure) {
      // The map's side panel: a hosting network's health, not its hosts or edge.
      await page.getByRole("link", { name: "Map" }).click();
      await page.getByLabel("Service").selectOption({ label: "Map service" });
      await page.getByRole("button", { name: "Open Tokyo" }).first().click();
      const panel = page.getByTestId("network-panel");
      await expect(panel).toContainText(/\d+ of \d+ hosts up/);
      await expect(panel.getByTestId("panel-hosts")).toHaveCount(0);
      await expect(panel).not.toContainText("tokyo-");
      const nav = page.getByRole("navigation", { name: "Main" });
      for (const name of ["VMs", "Hosts", "Utilization", "Operations"])
        await expect(nav.getByRole("link", { name })).toHaveCount(0);
      // Reached by its address, an infrastructure page still renders and says why it is empty.
      await page.goto("/vms");
      await expect(page.getByText("VMs are for operators, managers and administrators")).toBeVisible();
      return;
    }

    await page.getByRole("link", { name: "VMs" }).click();
    await expect(page.getByTestId("phase-NEST")).toContainText("map-001");
    await expect(page.getByTestId("phase-PRODUCTION")).toContainText("Running");

    await page.getByRole("link", { name: "Hosts" }).click();
    await expect(page.getByTestId("hosts-tokyo")).toContainText("tokyo-nest-1");

    await page.getByRole("link", { name: "Utilization" }).click();
    await expect(page.getByTestId("service-cpu")).toContainText("Finance portal");

    await page.getByRole("link", { name: "Operations" }).click();
    await expect(page.getByTestId("operations")).toContainText("Activate");
  });
}

test("a clan admin sees only their own bookings", async ({ page }) => {
  await signIn(page, "clan2@vmatrix.test");
  await page.getByRole("link", { name: "Matches" }).click();
  await expect(page.getByText("No matches booked yet.")).toBeVisible();
});

test("a manager cannot change anything: the UI offers no change and the API refuses it", async ({ page }) => {
  await signIn(page, "manager@vmatrix.test");
  // Replica targets live in the map's side panel: choose the service, open a hosting network.
  await page.getByLabel("Service").selectOption({ label: "Map service" });
  await page.getByRole("button", { name: "Open Tokyo" }).first().click();
  await expect(page.getByRole("button", { name: /More replicas of Map service/ }).first()).toBeDisabled();
  await page.getByRole("link", { name: "Hosts" }).click();
  await expect(page.getByTestId("hosts-tokyo")).toBeVisible();
  await expect(page.getByRole("button", { name: "Drain" })).toHaveCount(0);

  const hostId = await page.evaluate(async () => {
    const r = await fetch("/api/trpc/hosts.list");
    const body = (await r.json()) as { result: { data: { json: { hosts: { id: string }[] }[] } } };
    return body.result.data.json.find((n) => n.hosts.length > 0)!.hosts[0]!.id;
  });
  const res = await page.request.post("/api/trpc/hosts.setDraining", { data: { json: { hostId, draining: true } } });
  expect(res.status()).toBe(403);
  expect(JSON.stringify(await res.json())).toContain("Only operators may change hosts");
});

test("an operator drains a host after confirming, and returns it to service", async ({ page }) => {
  await signIn(page, "operator@vmatrix.test");
  await page.getByRole("link", { name: "Hosts" }).click();
  const tokyo = page.getByTestId("hosts-tokyo");
  const row = tokyo.locator("tr", { hasText: "tokyo-prod-1" });
  await row.getByRole("button", { name: "Drain" }).click();
  await expect(row).toContainText("Drain tokyo-prod-1?");
  await row.getByRole("button", { name: "Yes, drain" }).click();
  await expect(row).toContainText("draining");
  await row.getByRole("button", { name: "Return to service" }).click();
  await expect(row).not.toContainText("draining");
});
