import { expect, test } from "@playwright/test";
import { signIn } from "./helpers";

// An operator reads and changes a service's autoscaling policy, asks what it would do now,
// and reads its decisions; a manager reads them without the controls to change them.
test("the Autoscaler page: a service's policy checked field by field and saved, a dry run, the decision log", async ({
  page,
}) => {
  await signIn(page, "operator@vmatrix.test");
  await page.getByRole("link", { name: "Autoscaler" }).click();
  await page.getByLabel("Service").selectOption({ label: "Sports news (sports)" });
  const form = page.getByRole("form", { name: "Autoscaling policy" });
  await expect(form.getByLabel("CPU threshold (%)")).toHaveValue("90");

  // A threshold below the scale-in level would flap: refused at the field, nothing sent.
  await form.getByLabel("CPU threshold (%)").fill("60");
  await form.getByRole("button", { name: "Save policy" }).click();
  await expect(form.getByText("must be below cpuThresholdPercent (60), or a service would flap")).toBeVisible();
  await form.getByLabel("CPU threshold (%)").fill("90");
  await form.getByLabel("Seasons (hours)").fill("24, x");
  await form.getByRole("button", { name: "Save policy" }).click();
  await expect(form.getByText(/seasonHours|is not a whole number of hours/)).toBeVisible();

  // A good change is saved and shown after a reload; then put back.
  await form.getByLabel("Seasons (hours)").fill("24, 168");
  await form.getByLabel("Window (min)").fill("12");
  await form.getByRole("button", { name: "Save policy" }).click();
  await expect(form.getByRole("status")).toContainText("Saved");
  await page.reload();
  await page.getByLabel("Service").selectOption({ label: "Sports news (sports)" });
  await expect(form.getByLabel("Window (min)")).toHaveValue("12");
  await form.getByLabel("Window (min)").fill("10");
  await form.getByRole("button", { name: "Save policy" }).click();
  await expect(form.getByRole("status")).toContainText("Saved");

  // What it would do now, from the live state.
  await page.getByRole("button", { name: "Dry run now" }).click();
  await expect(page.getByTestId("autoscaler-plan")).toContainText(
    /\d+ running(, \d+ \w+)*; CPU .* over the window; wants \d+/,
  );
  await expect(page.getByTestId("autoscaler-plan")).toContainText(/Would do nothing|Activate|Deactivate|Server loss/);
  await expect(
    page.getByTestId("autoscaler-log").or(page.getByText("No decisions yet: the autoscaler records one")),
  ).toBeVisible();
});

test("a manager reads the policy but has no controls to change it", async ({ page }) => {
  await signIn(page, "manager@vmatrix.test");
  await page.goto("/autoscaler");
  const form = page.getByRole("form", { name: "Autoscaling policy" });
  await expect(form.getByLabel("CPU threshold (%)")).toBeDisabled();
  await expect(form.getByRole("button", { name: "Save policy" })).toHaveCount(0);
});
