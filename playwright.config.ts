import { defineConfig } from "@playwright/test";
import { CHROMIUM_ARGS, findChromium } from "./e2e/browser";

const PORT = Number(process.env.E2E_PORT ?? 3100);
const executablePath = findChromium();

// e2e runs the real product (production build, embedded PostgreSQL, seeded world) on its
// own ports and data folder, wiped first, so it never touches a running dev instance.
export default defineConfig({
  testDir: "e2e",
  // The libvirt lab's browser tests have a product of their own (playwright.libvirt.config.ts).
  testIgnore: "libvirt/**",
  fullyParallel: false,
  workers: 1,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  use: {
    baseURL: `http://localhost:${PORT}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: { executablePath, args: executablePath ? CHROMIUM_ARGS : [] },
  },
  webServer: {
    command: "rm -rf .data/e2e && npx tsx scripts/start.ts",
    url: `http://127.0.0.1:${PORT}/signin`,
    timeout: 400_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      PORT: String(PORT),
      VMATRIX_DATA_DIR: ".data/e2e",
      EMBEDDED_PG_PORT: process.env.E2E_PG_PORT ?? "54349",
      SIM_LAB_BASE_PORT: process.env.E2E_SIM_LAB_BASE_PORT ?? "24000",
      LOG_LEVEL: "warn",
      // Many sign-ins in a row from one address: lift the brute-force limit for tests.
      AUTH_SIGNIN_PER_MINUTE: "1000",
      // Hibernation's pre-boot: a second is enough for the sim lab's VMs.
      HIBERNATE_BOOT_SECONDS: "1",
    },
  },
});
