import { existsSync } from "node:fs";
import { chromium } from "@playwright/test";

/**
 * The browser for e2e tests: Playwright's own Chromium when installed, else a system
 * Chromium (CHROMIUM_PATH, Debian's /usr/bin/chromium, …). Returns undefined for
 * Playwright's own, a path for a system one, or throws one line saying what to install.
 */
export function findChromium(): string | undefined {
  if (existsSync(chromium.executablePath())) return undefined;
  const candidates = [
    process.env.CHROMIUM_PATH,
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
  ];
  const found = candidates.find((p): p is string => !!p && existsSync(p));
  if (found) return found;
  throw new Error(
    "No Chromium for the browser tests. Install one: `npx playwright install chromium` (needs internet), or `apt-get install chromium` on Debian/Ubuntu, or set CHROMIUM_PATH to a Chromium/Chrome binary.",
  );
}

/** Flags that keep a system Chromium from hanging on a closed network. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
