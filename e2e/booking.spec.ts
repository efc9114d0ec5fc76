import { expect, test, type Page } from "@playwright/test";
import { signIn } from "./helpers";

// GeoIP places these addresses in the named cities (offline database shipped with geoip-lite).
const EAST = [
  { name: "east-ny", ip: "12.14.0.10" },
  { name: "east-boston", ip: "24.91.148.10" },
];
const WEST = [
  { name: "west-la", ip: "12.42.185.10" },
  { name: "west-seattle", ip: "23.105.74.10" },
];
const MIDDLE = /Denver|Dallas|Chicago/;

/** A date a few days ahead (UTC), clear of the seeded match of tomorrow. */
function inDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

async function describeMatch(page: Page, date: string) {
  await page.getByRole("link", { name: "Matches" }).click();
  const form = page.getByRole("form", { name: "Book a match" });
  await form.getByLabel("Clan A").fill("East Clan");
  await form.getByLabel("Clan B").fill("West Clan");
  await form.getByLabel("Start date (UTC)").fill(date);
  await form.getByLabel("Start time (UTC)").fill("19:00");
  await form.getByLabel(/Duration/).fill("90");
  await form.getByRole("button", { name: "Add player" }).click();
  await form.getByRole("button", { name: "Add player" }).click();
  const players = [
    { ...EAST[0]!, clan: "East Clan" },
    { ...WEST[0]!, clan: "West Clan" },
    { ...EAST[1]!, clan: "East Clan" },
    { ...WEST[1]!, clan: "West Clan" },
  ];
  for (const [i, p] of players.entries()) {
    await form.getByLabel(`Player ${i + 1} name`).fill(p.name);
    await form.getByLabel(`Player ${i + 1} clan`).selectOption({ label: p.clan });
    await form.getByLabel(`Player ${i + 1} IP address`).fill(p.ip);
  }
  return form;
}

/** Ranks the servers; hosts count only once the Oracle's heartbeat has seen them up. */
async function findFairest(page: Page) {
  const recommended = page.getByTestId("recommended");
  await expect(async () => {
    await page.getByRole("button", { name: "Find the fairest server" }).click();
    await expect(recommended).toContainText(MIDDLE, { timeout: 5_000 });
  }).toPass({ timeout: 60_000 });
  return (await recommended.locator("strong").first().textContent())!;
}

test("a clan admin books an east-vs-west match in the middle; a host taken meanwhile is refused and the next best offered", async ({
  page,
  browser,
}) => {
  // Two signed-in admins, heartbeats to wait for and the GeoIP database's first load: more than the default minute.
  test.setTimeout(150_000);
  const date = inDays(5);
  await signIn(page, "clan@vmatrix.test");
  await describeMatch(page, date);
  const chosen = await findFairest(page);

  const recommended = page.getByTestId("recommended");
  await expect(recommended).toContainText(/C_s \d+\.\d ms/);
  const candidates = page.getByTestId("candidates");
  for (const p of [...EAST, ...WEST])
    await expect(candidates.getByRole("columnheader", { name: p.name })).toBeVisible();
  await expect(candidates.locator("tbody tr").first()).toContainText(chosen);
  await expect(page.getByTestId("booking-map").locator("path.leaflet-interactive").first()).toBeVisible();
  await page.getByTestId("exclusions").locator("summary").click();
  await expect(page.getByTestId("exclusions")).toContainText(/runs production VM|exceeds the 180 ms cap/);

  // Real pings from the top three hosts (the sim lab answers over SSH) refine the ranking.
  await page.getByRole("button", { name: "Measure pings (top 3)" }).click();
  await expect(page.getByTestId("measured-note")).toBeVisible();
  await expect(candidates.locator("tbody tr")).toHaveCount(3);
  await expect(candidates).toContainText("✓");

  // Meanwhile an administrator books the same server for an overlapping slot (not the
  // other clan admin: foundation.spec expects that one to have no bookings).
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await signIn(otherPage, "admin@vmatrix.test");
  await describeMatch(otherPage, date);
  await otherPage.getByLabel("Start time (UTC)").fill("19:30");
  expect(await findFairest(otherPage)).toBe(chosen);
  await otherPage.getByTestId("recommended").getByRole("button", { name: "Book this server" }).click();
  await expect(otherPage.getByTestId("booking-done")).toContainText(chosen);
  await other.close();

  await candidates.getByTestId(`candidate-${chosen}`).getByRole("button", { name: "Book this server" }).click();
  const conflict = page.getByTestId("booking-conflict");
  await expect(conflict).toContainText(`${chosen} (`);
  await expect(conflict).toContainText("is already booked for an overlapping time");
  await expect(conflict).toContainText(/Next best server: \S+ \(/);
  const offer = conflict.getByRole("button", { name: /^Book .+ instead$/ });
  await expect(offer).toBeVisible();
  const next = (await offer.textContent())!.replace(/^Book (\S+) .*$/, "$1");
  expect(next).not.toBe(chosen);
  await expect(conflict).toContainText(`Next best server: ${next}`);
  await offer.click();
  await expect(page.getByTestId("booking-done")).toContainText(next);
  await expect(page.getByTestId("matches")).toContainText("East Clan vs West Clan");
  await expect(page.getByTestId("matches")).toContainText(next);

  // The stored decision: C_s, and each player's RTT with where it came from (pinged hosts: measured).
  const row = page
    .getByTestId("matches")
    .locator("tr", { hasText: next })
    .filter({ hasText: "East Clan vs West Clan" });
  const placement = row.getByTestId("match-placement");
  await expect(placement.locator("summary")).toContainText(
    /C_s \d+\.\d ms · (latency model|measured pings|pings \+ model)/,
  );
  await placement.locator("summary").click();
  for (const p of [...EAST, ...WEST])
    await expect(placement.locator("tr", { hasText: p.name })).toContainText(/\d+(✓ measured|≈ model|model)/);
});

test("the booking form names each wrong field, and a player can be placed on the map", async ({ page }) => {
  await signIn(page, "clan@vmatrix.test");
  await page.getByRole("link", { name: "Matches" }).click();
  const form = page.getByRole("form", { name: "Book a match" });
  await form.getByLabel(/Duration/).fill("5");
  await expect(form.getByLabel(/Max RTT/)).toHaveValue("180");
  await form.getByLabel(/Max RTT/).fill("5");
  await form.getByLabel("Player 1 IP address").fill("10.0.0");
  await form.getByRole("button", { name: "Find the fairest server" }).click();
  await expect(form.getByText("Clan A's name is required")).toBeVisible();
  await expect(form.getByText("Duration must be at least 15 minutes")).toBeVisible();
  await expect(form.getByText("Max RTT must be at least 10 ms")).toBeVisible();
  await expect(form.getByText("Not an IPv4 or IPv6 address")).toBeVisible();
  await expect(form.getByText("Player name is required").first()).toBeVisible();

  await form.getByLabel("Player 2 location by").selectOption("map");
  await expect(page.getByText(/Click the map to place/)).toBeVisible();
  await page.getByTestId("booking-map").click({ position: { x: 200, y: 150 } });
  await expect(form.getByTestId("player-place-1")).toHaveText(/^-?\d+\.\d\d, -?\d+\.\d\d$/);
});
