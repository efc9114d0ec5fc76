import { execFile } from "node:child_process";

/**
 * `npm run vmatrix -- ARGS` against the e2e product, as the demo operator types it in
 * another terminal: its API (playwright.config.ts's port) with the operator's token that
 * `npm start` wrote into the e2e data folder. Arguments go as an array (no shell).
 * Resolves with stdout; rejects with the CLI's error line.
 */
export function vmatrixCli(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "npm",
      ["run", "-s", "vmatrix", "--", "--token-file", ".data/e2e/demo-tokens/operator.token", ...args],
      {
        env: {
          ...process.env,
          VMATRIX_URL: `http://127.0.0.1:${process.env.E2E_PORT ?? 3100}`,
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
