import { execFile } from "node:child_process";

/**
 * `npm run vmatrix -- ARGS` against the e2e product, as an operator types it in another
 * terminal: the same data folder and embedded PostgreSQL port as playwright.config.ts's
 * webServer, so the CLI shares the running database (server/db/embedded.ts). Arguments
 * go as an array (no shell). Resolves with stdout; rejects with the CLI's error line.
 */
export function vmatrixCli(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "npm",
      ["run", "-s", "vmatrix", "--", ...args],
      {
        env: {
          ...process.env,
          VMATRIX_DATA_DIR: ".data/e2e",
          EMBEDDED_PG_PORT: process.env.E2E_PG_PORT ?? "54349",
          DATABASE_URL: "",
          LOG_LEVEL: "warn",
        },
        timeout: 120_000,
      },
      (err, stdout, stderr) =>
        err ? reject(new Error(`vmatrix ${args.join(" ")} failed: ${stderr.trim() || err.message}`)) : resolve(stdout),
    );
  });
}
