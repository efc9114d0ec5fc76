import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { withE2eDatabase } from "./database";
import { signIn } from "./helpers";

// A database crash under the running product (npm start's supervisor, docs/faults.md): the
// web app keeps answering, the embedded PostgreSQL is started again, pages show data again,
// and the restart is an alert that resolved itself, in the Hosts page's history.

const PG_DIR = path.resolve(".data/e2e/pg");

test("the product rides through a PostgreSQL crash and says so in the alert history", async ({ page }) => {
  test.setTimeout(150_000);
  await signIn(page, "operator@vmatrix.test");
  await page.getByRole("link", { name: "Hosts" }).click();
  const tokyo = page.getByTestId("hosts-tokyo");
  await expect(tokyo.locator("tr", { hasText: "tokyo-prod-1" })).toContainText("Up", { timeout: 30_000 });

  const postmaster = Number(readFileSync(path.join(PG_DIR, "postmaster.pid"), "utf8").split("\n")[0]);
  expect(postmaster).toBeGreaterThan(1);
  const killedAt = Date.now();
  process.kill(postmaster, "SIGKILL");

  // The web app never went away: while the database is away its pages say so in words
  // (and come back by themselves), the API answers 503 with the reason.
  const signin = await page.request.get("/signin");
  expect(signin.status()).toBe(200);
  const api = await page.request.get("/api/trpc/alerts.list?input=" + encodeURIComponent('{"json":{}}'));
  if (api.status() !== 200) {
    expect(api.status()).toBe(503);
    expect(await api.text()).toContain("The database cannot be reached right now");
  }

  // The supervisor starts the database again (it replays its log); the page reads it again.
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId("hosts-tokyo").locator("tr", { hasText: "tokyo-prod-1" })).toContainText("Up", {
      timeout: 3000,
    });
  }).toPass({ timeout: 90_000 });
  const restartedPid = Number(readFileSync(path.join(PG_DIR, "postmaster.pid"), "utf8").split("\n")[0]);
  expect(restartedPid).not.toBe(postmaster);

  // The restart was raised and ended: a process-restarted alert, resolved.
  const restartAlert = () =>
    withE2eDatabase(async (db) => {
      const { rows } = await db.query<{ message: string; resolved: boolean }>(
        `SELECT message, "resolvedAt" IS NOT NULL AS resolved FROM "Alert"
          WHERE kind = 'process-restarted' AND "createdAt" >= $1 ORDER BY "createdAt" DESC LIMIT 1`,
        [new Date(killedAt - 1000)],
      );
      return rows[0] ?? null;
    });
  await expect.poll(restartAlert, { timeout: 30_000 }).toEqual({
    message: "The embedded PostgreSQL was killed by SIGKILL and is being restarted.",
    resolved: true,
  });
  await page.reload();
  const history = page.getByTestId("alert-history");
  await history.getByText("Alert history (resolved alerts)").click();
  await expect(history.getByTestId("alert-history-table")).toContainText(
    "The embedded PostgreSQL was killed by SIGKILL and is being restarted.",
  );
});
