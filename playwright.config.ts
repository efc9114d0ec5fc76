import { productConfig } from "./e2e/product-config";

// The demo world on the sim lab.
export default productConfig({
  testDir: "e2e",
  // The libvirt lab's and production mode's browser tests have a product of their own
  // (playwright.libvirt.config.ts, playwright.production.config.ts).
  testIgnore: ["libvirt/**", "production/**"],
  port: Number(process.env.E2E_PORT ?? 3100),
  dataDir: ".data/e2e",
  testTimeoutMs: 60_000,
  startTimeoutMs: 400_000,
  env: {
    EMBEDDED_PG_PORT: process.env.E2E_PG_PORT ?? "54349",
    SIM_LAB_BASE_PORT: process.env.E2E_SIM_LAB_BASE_PORT ?? "24000",
    // Hibernation's pre-boot: a second is enough for the sim lab's VMs.
    HIBERNATE_BOOT_SECONDS: "1",
  },
});
