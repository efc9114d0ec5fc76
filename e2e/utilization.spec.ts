import { readFile } from "node:fs/promises";
import { expect, test } from "@playwright/test";
import { signIn } from "./helpers";

test("a manager reads utilization: series per service, savings vs static, zoom and CSV export", async ({ page }) => {
  await page.setViewportSize({ width: 1400, height: 1000 });
  await signIn(page, "manager@vmatrix.test");
  await page.getByRole("link", { name: "Utilization" }).click();
  await page.getByRole("button", { name: "Month" }).click();

  // The per-service chart is a canvas with a legend naming the services.
  const serviceChart = page.getByTestId("chart-service-cpu");
  await expect(serviceChart.locator("canvas")).toBeVisible();
  for (const name of ["Finance portal", "Sports news", "Map service"]) {
    await expect(serviceChart.locator(".u-legend")).toContainText(name);
  }
  await expect(page.getByTestId("service-cpu")).toContainText("Finance portal");
  await expect(page.getByTestId("chart-hosts").locator("canvas")).toBeVisible();
  await expect(page.getByTestId("chart-host-cpu").locator("canvas")).toBeVisible();

  // The seeded month shares hosts between finance and sports: fewer host-hours than static.
  await expect(page.getByTestId("saved-percent")).toHaveText(/^\d+(\.\d)?%$/);
  const saved = Number((await page.getByTestId("saved-percent").textContent())!.replace("%", ""));
  expect(saved).toBeGreaterThan(0);
  await expect(page.getByTestId("static-hosts")).toHaveText(/^\d+ hosts$/);

  await page.screenshot({ path: "test-results/utilization-month.png", fullPage: true });

  // A manager changes nothing here: no form controls beyond the view's own.
  await expect(page.getByRole("button", { name: /activate|deactivate|drain/i })).toHaveCount(0);

  // CSV export downloads what is shown, with its header.
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("csv-export").click()]);
  expect(download.suggestedFilename()).toMatch(/^utilization-.*\.csv$/);
  const csv = await readFile((await download.path())!, "utf8");
  const [header, first] = csv.split("\n");
  expect(header).toMatch(
    /^time \(UTC\),finance cpu mean %,finance cpu max %,finance demand \(host units\),finance hosts,/,
  );
  expect(header).toContain("hosts in use,static provisioning hosts");
  expect(first).toMatch(/^\d{4}-\d\d-\d\dT/);

  // Dragging across the plot zooms: the server answers at the narrower range.
  const before = await page.getByTestId("util-range").textContent();
  const box = (await serviceChart.locator(".u-over").boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await expect(page.getByRole("button", { name: "Reset zoom" })).toBeVisible();
  await expect(page.getByTestId("util-range")).not.toHaveText(before!);
  // The server answered for the narrower range: fewer hourly buckets than the month's 720.
  await expect(page.getByTestId("util-resolution")).not.toContainText("(720 points");
  await expect(page.getByRole("status")).toHaveCount(0);
  await expect(serviceChart.locator("canvas")).toBeVisible();
  await page.screenshot({ path: "test-results/utilization-zoomed.png", fullPage: true });
});
