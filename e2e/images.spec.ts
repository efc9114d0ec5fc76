import { expect, test } from "@playwright/test";
import { signIn } from "./helpers";
import { followOnOperationsPage } from "./lifecycle-steps";

// Golden images on the VMs page (docs/operations.md, "Images"): the demo world's image of
// each service, on a Loading Chambers host of the sim lab, listed with its host, size and
// checksum; "New VM" makes a VM from it (copied first to the host the scheduler picks when
// that host lacks it); registering an image whose file is not on the host is refused on
// the field, in words.
test.describe.configure({ timeout: 180_000 });

test("an operator creates a VM from the demo's image, and is told when an image's file is missing", async ({
  page,
}) => {
  await signIn(page, "operator@vmatrix.test");
  await page.getByRole("link", { name: "VMs", exact: true }).click();
  // The map page has a Service picker too: choose on the VMs page, once it is there.
  await page.waitForURL("**/vms");
  await expect(page.getByTestId("images")).toBeVisible();
  await page.getByLabel("Service").first().selectOption({ label: "Map service" });

  const images = page.getByTestId("images");
  const mapImage = images.getByTestId("image-map-v1");
  await expect(mapImage).toContainText("ashburn-load-1");
  await expect(mapImage).toContainText("4.0 MiB");
  await expect(mapImage).toContainText("7de93c422707");

  // A file that is not on the host: refused on the Name field, naming where it was looked for.
  await images.getByRole("button", { name: "Register image…" }).click();
  const form = page.getByRole("form", { name: "Register an image" });
  await form.getByLabel("Name").fill("map-e2e-v1");
  await form.getByLabel("On host").selectOption({ label: "ashburn-load-1" });
  await form.getByRole("button", { name: "Register image" }).click();
  await expect(form.locator("#image-name-error")).toContainText(
    "there is no file /var/lib/vmatrix/vms/map-e2e-v1.image on host ashburn-load-1",
  );
  await form.getByRole("button", { name: "Cancel" }).click();

  // New VM from map-v1, wherever the scheduler puts it.
  await page.getByRole("button", { name: "New VM…" }).click();
  const dialog = page.getByRole("form", { name: "New VM" });
  await expect(dialog.getByLabel("from image")).toContainText("map-v1 (4.0 MiB, on ashburn-load-1)");
  await dialog.getByLabel("New VM name").fill("map-e2e-1");
  await dialog.getByRole("button", { name: "Create" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Requested" })).toBeVisible();

  await followOnOperationsPage(page, "map-e2e-1", "Create", ["create disk", "define", "record"]);
  await page.getByRole("link", { name: "VMs", exact: true }).click();
  await expect(page.getByTestId("phase-LOADING").getByTestId("vm-map-e2e-1")).toContainText("Shutoff");
});
