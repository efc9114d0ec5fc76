import { defineConfig } from "@playwright/test";
import { CHROMIUM_ARGS, findChromium } from "./e2e/browser";

const PORT = Number(process.env.E2E_LIBVIRT_PORT ?? 3200);
const executablePath = findChromium();

// The product on the libvirt lab's real hosts (`npm start -- --lab libvirt`: real QEMU
// guests, real edges), driven from a real browser. Its own ports and data folder, wiped
// first. Root on Linux only (scripts/test.ts says why when it cannot run).
export default defineConfig({
  testDir: "e2e/libvirt",
  fullyParallel: false,
  workers: 1,
  timeout: 300_000,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  use: {
    baseURL: `http://localhost:${PORT}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: { executablePath, args: executablePath ? CHROMIUM_ARGS : [] },
  },
  webServer: {
    command: "rm -rf .data/e2e-libvirt && npx tsx scripts/start.ts --lab libvirt",
    url: `http://127.0.0.1:${PORT}/signin`,
    timeout: 600_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      PORT: String(PORT),
      VMATRIX_DATA_DIR: ".data/e2e-libvirt",
      EMBEDDED_PG_PORT: process.env.E2E_LIBVIRT_PG_PORT ?? "54339",
      DNS_PORT: process.env.E2E_LIBVIRT_DNS_PORT ?? "5354",
      LOG_LEVEL: "warn",
      AUTH_SIGNIN_PER_MINUTE: "1000",
    },
  },
});
