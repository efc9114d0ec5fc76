// Runs before `npm start` and `npm test` with plain Node (no dependencies needed):
// checks the Node version and installs dependencies when they are missing or stale,
// so a fresh clone needs nothing but `npm start`.
import { execSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(
    `vMatrix needs Node.js 20.19 or newer; this is ${process.versions.node}. Install a newer Node.js and try again.`,
  );
  process.exit(1);
}

const lock = "package-lock.json";
const marker = "node_modules/.vmatrix-lock-sha256";
const npmState = "node_modules/.package-lock.json";
const want = createHash("sha256").update(readFileSync(lock)).digest("hex");
const have = existsSync(marker) ? readFileSync(marker, "utf8").trim() : null;

if (have === want) process.exit(0);
// Installed by hand after the lock last changed (e.g. `npm ci` in CI): trust it.
if (have === null && existsSync(npmState) && statSync(npmState).mtimeMs >= statSync(lock).mtimeMs) {
  writeFileSync(marker, want);
  process.exit(0);
}
console.log("Installing dependencies (npm ci)…");
try {
  execSync("npm ci --no-audit --no-fund", { stdio: "inherit" });
} catch {
  console.error("npm ci failed: see the messages above (is the npm registry reachable?).");
  process.exit(1);
}
writeFileSync(marker, want);
