import { defineConfig } from "@playwright/test";
import { CHROMIUM_ARGS, findChromium } from "./browser";

/**
 * A browser-test configuration that runs the real product (production build, embedded
 * PostgreSQL, its world) on its own port and data folder, wiped first, so it never touches
 * a running instance. One per world: the sim lab's demo (playwright.config.ts) and the
 * libvirt lab's (playwright.libvirt.config.ts).
 */
export function productConfig(o: {
  testDir: string;
  testIgnore?: string | string[];
  port: number;
  dataDir: string;
  startArgs?: string[];
  testTimeoutMs: number;
  startTimeoutMs: number;
  env: Record<string, string>;
}) {
  const executablePath = findChromium();
  return defineConfig({
    testDir: o.testDir,
    testIgnore: o.testIgnore,
    // One folder per product: npm test runs two of these configurations side by side, and
    // each run empties its output folder first.
    outputDir: `test-results/${o.dataDir.split("/").pop()}`,
    fullyParallel: false,
    workers: 1,
    timeout: o.testTimeoutMs,
    expect: { timeout: 15_000 },
    reporter: [["list"]],
    use: {
      baseURL: `http://localhost:${o.port}`,
      trace: "retain-on-failure",
      screenshot: "only-on-failure",
      launchOptions: { executablePath, args: executablePath ? CHROMIUM_ARGS : [] },
    },
    webServer: {
      command: `rm -rf ${o.dataDir} && npx tsx scripts/start.ts${(o.startArgs ?? []).map((a) => ` ${a}`).join("")}`,
      url: `http://127.0.0.1:${o.port}/signin`,
      timeout: o.startTimeoutMs,
      reuseExistingServer: false,
      stdout: "pipe",
      stderr: "pipe",
      env: {
        PORT: String(o.port),
        // A container may export HOSTNAME as its own name: the product under test listens locally.
        HOSTNAME: "127.0.0.1",
        VMATRIX_DATA_DIR: o.dataDir,
        LOG_LEVEL: "warn",
        // Many sign-ins in a row from one address: lift the brute-force limit for tests.
        AUTH_SIGNIN_PER_MINUTE: "1000",
        ...o.env,
      },
    },
  });
}
