import { expect, test } from "@playwright/test";
import { signIn } from "../helpers";
import { act as actOn, followOnOperationsPage as follow } from "../lifecycle-steps";

// Issue 4's "done when" on real hosts: from the UI, a pre-booted VM of the libvirt lab goes
// Nest → Production (where it serves HTTP) → Loading Chambers → Nest, each operation
// followed live on the Operations page.
test.describe.configure({ timeout: 600_000 });

const VM = "map-lv-1";
// The world's first map VM (scripts/lib/libvirt-world.ts), on the lab's segment 1, which this (root) namespace reaches.
const ADDRESS = "10.77.0.201";
const act = (page: Parameters<typeof actOn>[0], column: string, action: string, confirm: string) =>
  actOn(page, VM, column, action, confirm);
// Real guests under TCG: an operation takes seconds to tens of seconds.
const followOnOperationsPage = (page: Parameters<typeof follow>[0], kind: string, steps: string[]) =>
  follow(page, VM, kind, steps, 180_000);

async function guestStatus(): Promise<{ name: string } | null> {
  try {
    const res = await fetch(`http://${ADDRESS}/cgi-bin/status`, { signal: AbortSignal.timeout(3000) });
    return res.ok ? ((await res.json()) as { name: string }) : null;
  } catch {
    return null;
  }
}

test("an operator takes a real guest from the Nest to production (it serves HTTP), to the Loading Chambers and back to the Nest", async ({
  page,
}) => {
  expect(await guestStatus(), "saved in the Nest, the guest does not answer").toBeNull();
  await signIn(page, "operator@vmatrix.test");

  await act(page, "NEST", "Activate", "Yes, activate");
  await followOnOperationsPage(page, "Activate", [
    "suspend",
    "copy disk",
    "copy state",
    "register",
    "resume",
    "bind",
    "record",
    "clean source",
  ]);
  // In production it serves HTTP.
  await expect.poll(async () => (await guestStatus())?.name ?? null, { timeout: 30_000 }).toBe(VM);

  await act(page, "PRODUCTION", "To Loading Chambers", "Yes, to loading chambers");
  await followOnOperationsPage(page, "Deactivate", ["drain", "suspend", "copy disk", "record"]);

  await act(page, "LOADING", "Hibernate", "Yes, hibernate");
  await followOnOperationsPage(page, "Hibernate", ["boot", "suspend", "copy state", "record"]);
  await page.getByRole("link", { name: "VMs", exact: true }).click();
  await expect(page.getByTestId("phase-NEST").getByTestId(`vm-${VM}`)).toContainText("Saved");
  expect(await guestStatus(), "hibernated again, it does not answer").toBeNull();

  // Its page tells the story, newest first.
  await page.getByRole("link", { name: VM }).click();
  const history = page.getByTestId("vm-history");
  await expect(history.locator("> li")).toHaveCount(3);
  await expect(history.locator("> li").nth(2)).toContainText("Activate");
});
