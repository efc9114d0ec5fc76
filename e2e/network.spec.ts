import { expect, test, type Locator } from "@playwright/test";
import { signIn } from "./helpers";

// The Network panel (thesis §4.3.1–4.3.2, issue 8): what the Local Oracle configured
// around a VM, read from the sim lab's edges through the product. Seeded world: the map
// service runs in New York, Frankfurt, Tokyo and São Paulo (map-014 … map-017) and has
// pre-booted VMs in the Nests (map-001 … map-012).
test.describe.configure({ timeout: 240_000 });

const IPV4 = String.raw`\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}`;

/** The panel's row for one hosting network, as {column: text} (text content: CSS may upper-case headers). */
async function row(panel: Locator, hostingNetwork: string): Promise<Record<string, string>> {
  const headers = await panel.locator("table thead th").allTextContents();
  const cells = await panel
    .locator("table tbody tr", { has: panel.page().locator(`td:first-child:text-is("${hostingNetwork}")`) })
    .first()
    .locator("td")
    .allTextContents();
  return Object.fromEntries(headers.map((h, i) => [h.trim(), (cells[i] ?? "").trim()]));
}

test("an operator opens a production VM of the map service and sees what the network gives it", async ({ page }) => {
  await signIn(page, "operator@vmatrix.test");
  await page.goto("/vms/map-015");
  const panel = page.getByTestId("vm-network");
  await expect(panel.getByRole("heading", { name: "Network", exact: true })).toBeVisible();
  // The Oracle's network loop binds the seeded replicas shortly after the first start.
  await expect(panel.locator("tbody tr").filter({ hasText: "frankfurt" })).toContainText("Applied", {
    timeout: 45_000,
  });

  const r = await row(panel, "frankfurt");
  const publicAddress = r["Public address"]!;
  expect(publicAddress).toMatch(new RegExp(`^${IPV4}$`));
  expect(r["Private address"]).toMatch(new RegExp(`^${IPV4}$`));
  expect(r["How"]).toMatch(/^backend map, server map-015\s+Applied$/);
  expect(r["NAT rule"]).toBe(`${publicAddress}:80/tcp → ${r["Private address"]}:80 (HAProxy backend map)`);
  expect(r["Open ports"]).toBe("80/tcp");
  expect(r["DNS name"]).toBe("map.vmatrix.test");
  expect(r["Tunnel"]).toBe("none");
  // The owner's layer-2 segment as the sim edge reaches it: the seed gives mapco.example segment 1, a VLAN of the edge's trunk.
  expect(r["Segment"]).toBe("vlan:1");

  // What the DNS name answers around the world: Frankfurt's own replica near Frankfurt,
  // another replica's address in Tokyo; the short TTL everywhere.
  const dns = panel.getByTestId("vm-network-dns");
  await expect(dns.locator("li")).toHaveCount(5);
  await expect(dns.locator("li", { hasText: "from Frankfurt:" })).toContainText(`${publicAddress} (map-015, Frankfurt`);
  const tokyo = dns.locator("li", { hasText: "from Tokyo:" });
  await expect(tokyo).toContainText(/TTL 30 s/);
  await expect(tokyo).toContainText(new RegExp(`${IPV4} \\(map-\\d{3}, Tokyo`));
  await expect(tokyo).not.toContainText(publicAddress);

  // Its hosting network: pool use (this address serves the map service), edge health, no drift.
  const hn = panel.getByTestId("network-edge-frankfurt");
  await expect(hn.getByTestId("pool-use")).toContainText(
    /Public pool \d+\.\d+\.\d+\.\d+\/\d+: \d+ of \d+ addresses in use/,
  );
  await expect(hn.getByTestId("pool-addresses")).toContainText(
    `${publicAddress}:80 → load balancer for Map service (map-015`,
  );
  await expect(hn.getByTestId("edge-health")).toContainText("frankfurt-edge answering");
  await expect(hn.getByTestId("drift")).toContainText("no drift");
});

test("the map's hosting network panel shows its pool, edge and drift", async ({ page }) => {
  await signIn(page, "operator@vmatrix.test");
  // Frankfurt sits in a cluster at the first zoom: go to it by name once the map has its networks.
  await expect(page.getByTestId("world-map").locator(".leaflet-marker-icon").first()).toBeVisible();
  await expect(page.locator("#wm-network-names option[value='Frankfurt']")).toBeAttached();
  await page.getByLabel("Go to hosting network").fill("Frankfurt");
  const panel = page.getByTestId("network-panel");
  await expect(panel.getByRole("heading", { name: "Frankfurt, DE" })).toBeVisible();
  const hn = panel.getByTestId("network-edge-frankfurt");
  await expect(hn.getByTestId("edge-health")).toContainText("answering");
  await expect(hn.getByTestId("pool-addresses")).toContainText("load balancer for Map service (map-015");
  await expect(hn.getByTestId("drift")).toBeVisible();

  // An operator may change the pool, but not to one that cuts off an address in use: the form says which.
  const cidr = (await hn.getByTestId("pool-use").textContent())!.match(/Public pool (\S+):/)![1]!;
  await hn.getByRole("button", { name: "Change pool…" }).click();
  const form = hn.getByRole("form", { name: "Public pool" });
  await form.getByLabel("Public pool (CIDR)").fill("203.0.113.248/29");
  await form.getByRole("button", { name: "Save pool" }).click();
  await expect(form.locator(".field-error")).toContainText(
    /publicPoolCidr: 203\.0\.113\.248\/29 leaves out addresses in use: .*\(map-015\)/,
  );
  await form.getByRole("button", { name: "Cancel" }).click();
  await expect(hn.getByTestId("pool-use")).toContainText(`Public pool ${cidr}:`);
});

test("activating a Nest VM fills its Network panel in once the operation finishes", async ({ page }) => {
  await signIn(page, "operator@vmatrix.test");
  // A map VM in the Sydney Nest: no other spec moves it (lifecycle uses map-002, the map
  // spec's replica target draws on Johannesburg's Nest).
  const VM = "map-009";
  await page.goto(`/vms/${VM}`);
  const panel = page.getByTestId("vm-network");
  await expect(panel.locator("tbody tr")).toHaveCount(1);
  await expect(panel.locator("tbody tr")).toContainText("not in rotation");
  expect((await panel.locator("tbody tr td").nth(1).textContent())?.trim()).toBe("none");

  await page.getByRole("button", { name: "Activate…" }).click();
  await page.getByRole("button", { name: "Yes, activate" }).click();
  const activation = page.getByTestId("vm-history").locator("> li").first();
  await expect(activation).toContainText("Activate");
  await expect(activation).toContainText("Succeeded", { timeout: 150_000 });

  // Without a reload: a public address in its hosting network, a server in the map backend.
  const bound = panel.locator("tbody tr").filter({ hasText: `server ${VM}` });
  await expect(bound).toContainText("Applied", { timeout: 15_000 });
  const hostingNetwork = (await bound.locator("td").first().textContent())?.trim() ?? "";
  const r = await row(panel, hostingNetwork);
  expect(r["Public address"]).toMatch(new RegExp(`^${IPV4}$`));
  expect(r["NAT rule"]).toMatch(
    new RegExp(`^${r["Public address"]!.replace(/\./g, "\\.")}:80/tcp → ${IPV4}:80 \\(HAProxy backend map\\)$`),
  );
  expect(r["Open ports"]).toBe("80/tcp");
  expect(r["DNS name"]).toBe("map.vmatrix.test");
  await expect(panel.getByTestId(`network-edge-${hostingNetwork}`).getByTestId("pool-addresses")).toContainText(VM);
  await expect(panel.getByTestId("vm-network-dns").locator("li")).toHaveCount(5);
});
