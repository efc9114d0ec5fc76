import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { simHostSpecs } from "./cities";
import { defaultAddress, startSimLab, writeManifest } from "./lab";

/**
 * npm run lab:sim -- up [--hosts N] [--data DIR] [--base-port P] [--shard K/N]
 *
 * Starts a standalone sim lab, writes DIR/manifest.json and serves until Ctrl-C. With
 * `--shard K/N` this process serves every Nth host from the Kth (hosts K-1, K-1+N, …) of
 * the same lab and writes DIR/manifest-K-of-N.json: N processes together serve it.
 */
const USAGE =
  "usage: npm run lab:sim -- up [--hosts N (2–20000, default 6)] [--data DIR (default .data/lab-sim)] [--base-port P (host i on P+i; default: ephemeral)] [--shard K/N (serve every Nth host from the Kth: several processes, one lab)]";
const MAX_HOSTS = 20_000;
/** File descriptors a host may need: its listener and the oracle's connection to it. */
const FDS_PER_HOST = 2;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: {
      hosts: { type: "string" },
      data: { type: "string" },
      "base-port": { type: "string" },
      shard: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help || positionals.length !== 1 || positionals[0] !== "up") {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const count = Number(values.hosts ?? 6);
  if (!Number.isInteger(count) || count < 2 || count > MAX_HOSTS) {
    console.error(`--hosts must be an integer from 2 to ${MAX_HOSTS}`);
    return 2;
  }
  const basePort = values["base-port"] === undefined ? undefined : Number(values["base-port"]);
  if (basePort !== undefined && (!Number.isInteger(basePort) || basePort < 1024 || basePort + count > 65535)) {
    console.error("--base-port must leave room for every host below 65536, from 1024");
    return 2;
  }
  const shard = values.shard === undefined ? { index: 1, count: 1 } : parseShard(values.shard);
  if (!shard || shard.count > count) {
    console.error("--shard must be K/N with 1 ≤ K ≤ N ≤ --hosts, e.g. 1/2");
    return 2;
  }
  const dataDir = values.data ?? ".data/lab-sim";
  const all = simHostSpecs(count).map((h, i) => ({
    ...h,
    // Numbered across the whole lab, so every shard gives a host the same address and port.
    address: defaultAddress(i),
    sshPort: basePort === undefined ? undefined : basePort + i,
  }));
  const ours = (i: number) => i % shard.count === shard.index - 1;
  const mine = all.filter((_, i) => ours(i));
  const tag = shard.count > 1 ? `${shard.index}-of-${shard.count}` : "";
  const fds = openFileLimit();
  if (fds !== null && mine.length * FDS_PER_HOST > fds)
    console.warn(
      `[lab:sim] ${mine.length} hosts may need ${mine.length * FDS_PER_HOST} file descriptors once every host is connected; this process may open ${fds}: serve the lab from several processes (--shard K/N)`,
    );
  const lab = await startSimLab({
    dataDir,
    hosts: mine,
    ...(tag
      ? {
          shard: {
            keysFile: `hosts-${tag}`,
            peers: all.filter((_, i) => !ours(i)).map((h) => ({ address: h.address, lat: h.lat, lon: h.lon })),
          },
        }
      : {}),
  });
  const path = await writeManifest(dataDir, lab.manifest, tag ? `manifest-${tag}.json` : undefined);
  for (const h of lab.manifest.hosts.slice(0, 10))
    console.log(
      `[lab:sim] ${h.name} ${h.role} ${h.city} ${h.sshUser}@${h.sshHost}:${h.sshPort} ${h.hostKeyFingerprint}`,
    );
  if (mine.length > 10) console.log(`[lab:sim] … and ${mine.length - 10} more`);
  console.log(
    `[lab:sim] ${mine.length} hosts up${tag ? ` (shard ${shard.index} of ${shard.count}, ${count} in the lab)` : ""}; manifest: ${path}; Ctrl-C to stop`,
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await lab.stop();
  console.log("[lab:sim] stopped");
  return 0;
}

function parseShard(text: string): { index: number; count: number } | null {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (!m) return null;
  const [index, count] = [Number(m[1]), Number(m[2])];
  return index >= 1 && index <= count ? { index, count } : null;
}

/** This process's soft limit of open files (Linux), or null where unknown. */
function openFileLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`[lab:sim] ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
