import { parseArgs } from "node:util";
import { simHostSpecs } from "./cities";
import { startSimLab, writeManifest } from "./lab";

/**
 * npm run lab:sim -- up [--hosts N] [--data DIR] [--base-port P]
 *
 * Starts a standalone sim lab, writes DIR/manifest.json and serves until Ctrl-C.
 */
const USAGE =
  "usage: npm run lab:sim -- up [--hosts N (default 6)] [--data DIR (default .data/lab-sim)] [--base-port P (host i on P+i; default: ephemeral)]";

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: {
      hosts: { type: "string" },
      data: { type: "string" },
      "base-port": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help || positionals.length !== 1 || positionals[0] !== "up") {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const count = Number(values.hosts ?? 6);
  if (!Number.isInteger(count) || count < 2 || count > 5000) {
    console.error("--hosts must be an integer from 2 to 5000");
    return 2;
  }
  const basePort = values["base-port"] === undefined ? undefined : Number(values["base-port"]);
  if (basePort !== undefined && (!Number.isInteger(basePort) || basePort < 1024 || basePort + count > 65535)) {
    console.error("--base-port must leave room for every host below 65536, from 1024");
    return 2;
  }
  const dataDir = values.data ?? ".data/lab-sim";
  const hosts = simHostSpecs(count).map((h, i) => ({
    ...h,
    sshPort: basePort === undefined ? undefined : basePort + i,
  }));
  const lab = await startSimLab({ dataDir, hosts });
  const path = await writeManifest(dataDir, lab.manifest);
  for (const h of lab.manifest.hosts.slice(0, 10))
    console.log(
      `[lab:sim] ${h.name} ${h.role} ${h.city} ${h.sshUser}@${h.sshHost}:${h.sshPort} ${h.hostKeyFingerprint}`,
    );
  if (count > 10) console.log(`[lab:sim] … and ${count - 10} more`);
  console.log(`[lab:sim] ${count} hosts up; manifest: ${path}; Ctrl-C to stop`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await lab.stop();
  console.log("[lab:sim] stopped");
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`[lab:sim] ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
