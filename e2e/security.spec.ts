import { expect, test, type Page } from "@playwright/test";
import { signIn } from "./helpers";

/** CSP violations the page reports (console and securitypolicyviolation events). */
async function watchCsp(page: Page): Promise<string[]> {
  const violations: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to (load|execute|apply|connect|frame)/i.test(m.text()))
      violations.push(m.text());
  });
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      console.error(
        `Content Security Policy violation: ${e.violatedDirective} blocked ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`,
      ),
    );
  });
  return violations;
}

test("pages and API answers carry the security headers", async ({ request }) => {
  for (const path of ["/signin", "/api/auth/get-session", "/api/trpc/world.map"]) {
    const res = await request.get(path);
    const h = res.headers();
    expect(h["content-security-policy"], path).toContain("frame-ancestors 'none'");
    expect(h["content-security-policy"], path).toContain("default-src 'self'");
    expect(h["x-content-type-options"], path).toBe("nosniff");
    expect(h["referrer-policy"], path).toBe("strict-origin-when-cross-origin");
    // The e2e product runs on http://localhost: no HSTS there.
    expect(h["strict-transport-security"], path).toBeUndefined();
  }
});

test("the map, hosts and utilization pages run under the CSP with no violation", async ({ page }) => {
  const violations = await watchCsp(page);
  await page.setViewportSize({ width: 1400, height: 1000 });
  await signIn(page, "operator@vmatrix.test");
  // Leaflet's map panes (inline styles) and its canvas layers.
  await expect(page.locator(".leaflet-container")).toBeVisible();
  await expect(page.locator(".leaflet-pane").first()).toBeAttached();
  await page.getByRole("link", { name: "Hosts" }).click();
  await expect(page).toHaveURL(/\/hosts$/);
  await expect(page.getByRole("table").first()).toBeVisible();
  // uPlot's charts.
  await page.getByRole("link", { name: "Utilization" }).click();
  await expect(page.getByTestId("chart-service-cpu").locator("canvas")).toBeVisible();
  await page.waitForTimeout(500);
  expect(violations).toEqual([]);
});

test("an account that keeps failing is held back, and the sign-in form says for how long", async ({ page }) => {
  await page.goto("/signin");
  const email = `nobody-${Date.now()}@vmatrix.test`;
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("not-the-password");
  const attempt = () =>
    Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/api/auth/sign-in/email")),
      page.getByRole("button", { name: "Sign in" }).click(),
    ]).then(([r]) => r.status());
  for (let i = 0; i < 5; i++) {
    expect(await attempt()).toBe(401);
    await expect(page.locator("form [role=alert]")).toHaveText("Wrong email or password.");
  }
  expect(await attempt()).toBe(429);
  await expect(page.locator("form [role=alert]")).toHaveText(
    /^Too many failed sign-ins for this account: try again in (1 min|\d+ s)\.$/,
  );
});
