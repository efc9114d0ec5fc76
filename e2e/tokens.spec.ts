import { readFile } from "node:fs/promises";
import { expect, request, test } from "@playwright/test";
import { vmatrixCli } from "./cli";
import { signIn } from "./helpers";

// API tokens in the browser and over the API (issue 15, item 3): an operator creates a token on
// the Account page (shown once), a program uses it with no session, the page then shows when it
// was last used, and once revoked the API refuses it with 401 and the reason. The demo's token
// files work with the CLI, and a manager's cannot change anything.

test.describe.configure({ mode: "serial" });

/** An API client with no cookies: only the token says who it is. */
async function apiAs(baseURL: string, token: string) {
  return request.newContext({ baseURL, extraHTTPHeaders: { authorization: `Bearer ${token}` } });
}

test("an operator creates a token, a program uses it without a session, and it stops working once revoked", async ({
  page,
  baseURL,
}) => {
  await signIn(page, "operator@vmatrix.test");
  await page.goto("/account");
  const panel = page.getByRole("region", { name: "API tokens" });
  await panel.getByLabel("Name").fill("e2e script");
  await panel.getByLabel(/Valid for/).fill("30");
  await panel.getByRole("button", { name: "Create token" }).click();
  const token = (await panel.getByTestId("new-token").locator("code").textContent())!.trim();
  expect(token).toMatch(/^vmx_[A-Za-z0-9_-]{43}$/);
  const row = panel.getByTestId("tokens").locator("tr", { hasText: "e2e script" });
  await expect(row).toContainText(`${token.slice(0, 12)}…`);
  await expect(row).toContainText("never");

  const api = await apiAs(baseURL!, token);
  const me = await api.get("/api/trpc/me");
  expect(me.status()).toBe(200);
  expect((await me.json()).result.data.json).toMatchObject({ email: "operator@vmatrix.test", role: "OPERATOR" });

  // A reload shows the use, and never the secret again.
  await page.reload();
  await expect(row).not.toContainText("never");
  await expect(page.getByText(token)).toHaveCount(0);

  await row.getByRole("button", { name: "Revoke" }).click();
  await expect(panel.getByRole("status")).toContainText('Token "e2e script" revoked.');
  await expect(row).toContainText("revoked");
  const refused = await api.get("/api/trpc/me");
  expect(refused.status()).toBe(401);
  expect((await refused.json()).error.json.message).toMatch(/^token vmx_\S{8}… was revoked at /);

  const garbage = await apiAs(baseURL!, "vmx_garbage");
  const unknown = await garbage.get("/api/trpc/hosts.list");
  expect(unknown.status()).toBe(401);
  expect((await unknown.json()).error.json.message).toBe("unknown token (mistyped, or its owner was deleted)");
});

test("the demo's token files: the CLI lists hosts with the operator's, a manager's token cannot drain a host", async ({
  baseURL,
}) => {
  const hosts = JSON.parse(await vmatrixCli(["hosts", "list", "--json"])) as { name: string }[];
  expect(hosts.map((h) => h.name)).toContain("tokyo-prod-1");

  const manager = await apiAs(baseURL!, (await readFile(".data/e2e/demo-tokens/manager.token", "utf8")).trim());
  const me = await manager.get("/api/trpc/me");
  expect((await me.json()).result.data.json).toMatchObject({ email: "manager@vmatrix.test", role: "MANAGER" });
  const lookup = await manager.get(
    `/api/trpc/lookup.host?input=${encodeURIComponent(JSON.stringify({ json: { name: "tokyo-prod-1" } }))}`,
  );
  const hostId = (await lookup.json()).result.data.json.id as string;
  const drain = await manager.post("/api/trpc/hosts.setDraining", {
    data: { json: { hostId, draining: true } },
  });
  expect(drain.status()).toBe(403);
  expect((await drain.json()).error.json.message).toBe(
    "Only operators may change hosts, VMs and replicas. You are signed in as manager.",
  );
});
