import { randomUUID } from "node:crypto";
import { expect, type Page, test } from "@playwright/test";
import { signIn } from "./helpers";

// Users and sessions in the browser (issue 15): an administrator creates an operator with a
// first password; the operator signs in, is held on the password-change screen (pages and
// API) until they chose their own, then works; the administrator disables them, which ends
// their session at once, and the sign-in form says the account is disabled.

const tag = randomUUID().slice(0, 8);
const EMAIL = `olive-${tag}@vmatrix.test`;
const FIRST_PASSWORD = `first-${tag}`;
const OWN_PASSWORD = `own-choice-${tag}`;

test.describe.configure({ mode: "serial" });

async function signInAs(page: Page, email: string, password: string) {
  await page.goto("/signin");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

const row = (page: Page) => page.getByTestId("users").locator(`tr[data-email="${EMAIL}"]`);

test("an administrator creates an operator who must change the password, and later disables them", async ({
  browser,
}) => {
  const admin = await (await browser.newContext()).newPage();
  await signIn(admin, "admin@vmatrix.test");
  await admin.getByRole("link", { name: "Users", exact: true }).click();
  await expect(admin).toHaveURL(/\/users$/);
  await expect(admin.getByTestId("users").locator('tr[data-email="operator@vmatrix.test"]')).toContainText("Active");

  await admin.getByRole("button", { name: "New user" }).click();
  const form = admin.getByRole("form", { name: "New user" });
  // Bad input is named field by field before anything is sent.
  await form.getByRole("button", { name: "Create user" }).click();
  await expect(form.getByText("Enter the user's name.")).toBeVisible();
  await form.getByLabel("Name").fill("Olive Operator");
  await form.getByLabel("Email").fill(EMAIL);
  await form.getByLabel("Role").selectOption("OPERATOR");
  await form.getByLabel("First password").fill(FIRST_PASSWORD);
  await form.getByRole("button", { name: "Create user" }).click();
  await expect(admin.getByText(`Created ${EMAIL}`)).toBeVisible();
  await expect(row(admin)).toContainText("Operator");
  await expect(row(admin)).toContainText("Must change password");
  await expect(row(admin)).toContainText("never");

  // The new operator signs in with the first password and is held on the change screen.
  const olive = await (await browser.newContext()).newPage();
  await signInAs(olive, EMAIL, FIRST_PASSWORD);
  await expect(olive).toHaveURL(/\/change-password$/);
  await olive.goto("/hosts");
  await expect(olive).toHaveURL(/\/change-password$/);
  const refused = await olive.request.get("/api/trpc/hosts.list");
  expect(refused.status()).toBe(403);
  expect(await refused.text()).toContain("Choose a new password before anything else");

  const change = olive.getByRole("form", { name: "Change password" });
  await expect(change.getByRole("heading", { name: "Choose a new password" })).toBeVisible();
  await change.getByLabel("Current password (the one you were given)").fill("not-the-first-one");
  await change.getByLabel("New password", { exact: true }).fill(OWN_PASSWORD);
  await change.getByLabel("New password again").fill(OWN_PASSWORD);
  await change.getByRole("button", { name: "Change password" }).click();
  await expect(change.getByText("that is not your current password.")).toBeVisible();
  await change.getByLabel("Current password (the one you were given)").fill(FIRST_PASSWORD);
  await change.getByRole("button", { name: "Change password" }).click();
  await expect(olive).toHaveURL(/\/map$/);
  await expect(olive.getByTestId("role")).toHaveText("Operator");

  // Their own sessions, on the Account page behind their name.
  await olive.getByRole("link", { name: /Olive Operator/ }).click();
  await expect(olive).toHaveURL(/\/account$/);
  await expect(olive.getByTestId("sessions")).toContainText("this session");

  // The administrator sees them active and signed in, then disables them.
  await admin.reload();
  await expect(row(admin)).toContainText("Active");
  await expect(row(admin)).not.toContainText("never");
  await row(admin)
    .getByRole("button", { name: `1 session of ${EMAIL}` })
    .click();
  await expect(admin.getByTestId("user-sessions")).toContainText("Chrome on Linux");
  // A reset password too short is refused with the field and the reason; nothing changes.
  admin.once("dialog", (d) => void d.accept("short"));
  await row(admin).getByRole("button", { name: "Reset password" }).click();
  await expect(admin.getByText("password: must be at least 8 characters")).toBeVisible();
  await expect(row(admin)).toContainText("Active");
  admin.once("dialog", (d) => void d.accept("left the team"));
  await row(admin).getByRole("button", { name: "Disable" }).click();
  await expect(admin.getByText(`${EMAIL} is disabled and signed out.`)).toBeVisible();
  await expect(row(admin)).toContainText("Disabled");
  await expect(row(admin)).toContainText("left the team");

  // Their session ended at once; signing in again is refused in words.
  await olive.reload();
  await expect(olive).toHaveURL(/\/signin$/);
  await signInAs(olive, EMAIL, OWN_PASSWORD);
  await expect(olive.getByText("This account is disabled. Ask an administrator to enable it again.")).toBeVisible();
  await expect(olive).toHaveURL(/\/signin$/);

  // An administrator cannot disable themselves: the button is off for their own row.
  await expect(
    admin.getByTestId("users").locator('tr[data-email="admin@vmatrix.test"]').getByRole("button", { name: "Disable" }),
  ).toBeDisabled();
});
