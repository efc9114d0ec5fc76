import { randomUUID } from "node:crypto";
import { type Browser, expect, type Page, test } from "@playwright/test";
import { withE2eDatabase } from "./database";
import { signIn } from "./helpers";

// The Hosts page's alerts panel: an operator acknowledges an open alert and everyone sees
// who did; a manager cannot (no button, and the API refuses); a clan admin (an outside
// customer) does not read alerts at all; resolved alerts are in the history. The alerts are written straight into the e2e database: a
// server loss (nothing ends it by itself) and a restarted process that already ended.

const token = randomUUID().slice(0, 8);
const OPEN_MESSAGE = `A Tokyo host presented a different SSH host key; it is refused until an operator confirms the new key (e2e ${token})`;
const RESOLVED_MESSAGE = `The DNS server exited with code 1 and is being restarted (e2e ${token}).`;
const OLDER_RESOLVED_MESSAGE = `The Oracle exited with code 1 and is being restarted (e2e ${token}).`;

// In order: the refusals first, while the alert is not yet acknowledged.
test.describe.configure({ mode: "serial" });

let openId = "";

test.beforeAll(async () => {
  openId = await withE2eDatabase(async (db) => {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO "Alert" (id, kind, severity, message, "hostingNetworkId", "hostId", "createdAt")
       SELECT $1, 'host-key-mismatch', 'CRITICAL', $2, hn.id, h.id, now()
         FROM "HostingNetwork" hn JOIN "Host" h ON h."hostingNetworkId" = hn.id
        WHERE hn.slug = 'tokyo' ORDER BY h.name LIMIT 1
       RETURNING id`,
      [`e2e-open-${token}`, OPEN_MESSAGE],
    );
    await db.query(
      `INSERT INTO "Alert" (id, kind, severity, message, "createdAt", "resolvedAt")
       VALUES ($1, 'process-restarted', 'WARNING', $2, now() - interval '2 minutes', now() - interval '1 minute')`,
      [`e2e-resolved-${token}`, RESOLVED_MESSAGE],
    );
    // Raised later but ended earlier: the history lists it after the one above.
    await db.query(
      `INSERT INTO "Alert" (id, kind, severity, message, "createdAt", "resolvedAt")
       VALUES ($1, 'process-restarted', 'WARNING', $2, now() - interval '90 seconds', now() - interval '80 seconds')`,
      [`e2e-resolved-older-${token}`, OLDER_RESOLVED_MESSAGE],
    );
    return rows[0]?.id ?? "";
  });
  expect(openId, "a host in the Tokyo hosting network of the demo world").not.toBe("");
});

async function hostsPageAs(browser: Browser, email: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, email);
  await page.getByRole("link", { name: "Hosts" }).click();
  return page;
}

function acknowledgeViaApi(page: Page, id: string) {
  return page.request.post("/api/trpc/alerts.acknowledge", { data: { json: { id } } });
}

test("a manager reads open alerts but cannot acknowledge them", async ({ browser }) => {
  for (const who of [{ email: "manager@vmatrix.test", role: "manager" }]) {
    const page = await hostsPageAs(browser, who.email);
    const alert = page.getByTestId(`alert-${openId}`);
    await expect(alert).toContainText(OPEN_MESSAGE);
    await expect(alert).toContainText("Critical");
    await expect(alert).toContainText("host key changed");
    await expect(alert).toContainText(/tokyo-[a-z0-9-]+ · Tokyo/);
    await expect(alert).toContainText("Not acknowledged yet");
    await expect(alert.getByRole("button", { name: /Acknowledge/ })).toHaveCount(0);
    await expect(page.getByTestId("alerts-read-only")).toContainText("Only operators and administrators");

    const res = await acknowledgeViaApi(page, openId);
    expect(res.status()).toBe(403);
    expect(JSON.stringify(await res.json())).toContain(`You are signed in as ${who.role}`);
    await page.context().close();
  }
  const row = await withE2eDatabase(async (db) => {
    const { rows } = await db.query<{ acknowledgedAt: Date | null }>(
      `SELECT "acknowledgedAt" FROM "Alert" WHERE id = $1`,
      [openId],
    );
    return rows[0];
  });
  expect(row).toEqual({ acknowledgedAt: null });
});

test("a clan admin reads no alerts: no Hosts page in the menu, the API refuses in one line", async ({ browser }) => {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, "clan@vmatrix.test");
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Matches" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Hosts" })).toHaveCount(0);
  const list = await page.request.get(
    `/api/trpc/alerts.list?input=${encodeURIComponent(JSON.stringify({ json: {} }))}`,
  );
  expect(list.status()).toBe(403);
  expect(JSON.stringify(await list.json())).toContain("alerts are for operators, managers and administrators");
  const res = await acknowledgeViaApi(page, openId);
  expect(res.status()).toBe(403);
  // The Hosts page itself, reached by its address, still renders and says why it is empty.
  await page.goto("/hosts");
  await expect(page.getByRole("heading", { name: "Hosts" })).toBeVisible();
  await expect(page.getByText("hosts are for operators, managers and administrators")).toBeVisible();
  await page.context().close();
});

test("an operator acknowledges an open alert and everyone sees who did", async ({ browser }) => {
  const page = await hostsPageAs(browser, "operator@vmatrix.test");
  const alert = page.getByTestId(`alert-${openId}`);
  await expect(alert).toContainText(OPEN_MESSAGE);
  await expect(page.getByTestId("alerts-read-only")).toHaveCount(0);
  await alert.getByRole("button", { name: /Acknowledge/ }).click();
  await expect(alert).toContainText("Acknowledged by Otto Operator");
  await expect(alert.getByRole("button", { name: /Acknowledge/ })).toHaveCount(0);
  // It stays open: acknowledging is not resolving.
  await expect(page.getByTestId("open-alerts")).toContainText(OPEN_MESSAGE);

  // Acknowledging again changes nothing and says who did first.
  const again = await acknowledgeViaApi(page, openId);
  expect(again.status()).toBe(200);
  const body = JSON.stringify(await again.json());
  expect(body).toContain('"acknowledged":false');
  expect(body).toContain("already acknowledged by Otto Operator (operator@vmatrix.test)");

  const row = await withE2eDatabase(async (db) => {
    const { rows } = await db.query<{ email: string; resolved: boolean; audits: number }>(
      `SELECT u.email, a."resolvedAt" IS NOT NULL AS resolved,
              (SELECT count(*)::int FROM "AuditEvent" e WHERE e."entityId" = a.id AND e.action = 'alert.acknowledge') AS audits
         FROM "Alert" a JOIN "user" u ON u.id = a."acknowledgedById" WHERE a.id = $1`,
      [openId],
    );
    return rows[0];
  });
  expect(row).toEqual({ email: "operator@vmatrix.test", resolved: false, audits: 2 });
  await page.context().close();

  // A manager now sees who acknowledged it.
  const manager = await hostsPageAs(browser, "manager@vmatrix.test");
  await expect(manager.getByTestId(`alert-${openId}`)).toContainText("Acknowledged by Otto Operator");
  await manager.context().close();
});

test("resolved alerts are in the history, newest ended first", async ({ page }) => {
  await signIn(page, "manager@vmatrix.test");
  await page.getByRole("link", { name: "Hosts" }).click();
  const history = page.getByTestId("alert-history");
  await expect(history.getByTestId("alert-history-table")).toHaveCount(0);
  await history.getByText("Alert history (resolved alerts)").click();
  const table = history.getByTestId("alert-history-table");
  const row = table.locator("tr", { hasText: RESOLVED_MESSAGE });
  await expect(row).toContainText("process restarted");
  await expect(row).toContainText("Warning");
  await expect(row).toContainText(/\d+ min \d+ s ago/); // ended a minute before the test
  const messages = await table.locator("tbody tr").allTextContents();
  const newer = messages.findIndex((m) => m.includes(RESOLVED_MESSAGE));
  const older = messages.findIndex((m) => m.includes(OLDER_RESOLVED_MESSAGE));
  expect(older, "the alert that ended earlier is listed").toBeGreaterThan(-1);
  expect(newer, "newest ended first").toBeLessThan(older);
  // The open alert is not history.
  await expect(table).not.toContainText(OPEN_MESSAGE);
});
