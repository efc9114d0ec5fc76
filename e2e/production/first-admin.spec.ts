import { expect, test } from "@playwright/test";
import { FIRST_ADMIN } from "../../playwright.production.config";

// Production mode as its operator first meets it: no demo account exists or is shown, the
// first administrator signs in with the password from the environment and must choose a
// new one before anything else; https-only headers and cookies are on.

test("no demo account, and the first administrator must choose a new password", async ({ page }) => {
  await page.goto("/signin");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  await expect(page.getByText("Demo accounts")).toHaveCount(0);

  // The demo's public credentials open nothing.
  await page.getByLabel("Email").fill("admin@vmatrix.test");
  await page.getByLabel("Password").fill("vmatrix-demo");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator("form [role=alert]")).toHaveText("Wrong email or password.");

  await page.getByLabel("Email").fill(FIRST_ADMIN.email);
  await page.getByLabel("Password").fill(FIRST_ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/change-password$/);
  // The session cookie is the https-only kind.
  const cookies = await page.context().cookies();
  expect(cookies.find((c) => c.name.includes("session_token"))).toMatchObject({
    name: expect.stringMatching(/^__Secure-/) as unknown as string,
    secure: true,
    httpOnly: true,
  });
  await page.goto("/hosts");
  await expect(page).toHaveURL(/\/change-password$/);

  const change = page.getByRole("form", { name: "Change password" });
  await change.getByLabel("Current password (the one you were given)").fill(FIRST_ADMIN.password);
  await change.getByLabel("New password", { exact: true }).fill("my-own-admin-password");
  await change.getByLabel("New password again").fill("my-own-admin-password");
  await change.getByRole("button", { name: "Change password" }).click();
  await expect(page).toHaveURL(/\/map$/);
  await expect(page.getByTestId("role")).toHaveText("Administrator");
  await page.getByRole("link", { name: "Users", exact: true }).click();
  await expect(page.getByTestId("users").locator(`tr[data-email="${FIRST_ADMIN.email}"]`)).toContainText("Active");
  await expect(page.getByTestId("users").locator("tr[data-email]")).toHaveCount(1);
});

test("https-only headers are on", async ({ request }) => {
  const res = await request.get("/signin");
  expect(res.headers()["strict-transport-security"]).toBe("max-age=31536000; includeSubDomains");
  expect(res.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");
});
