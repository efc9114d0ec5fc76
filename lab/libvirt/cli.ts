import { parseArgs } from "node:util";
import { DEFAULT_BASE_PORT, DEFAULT_DIR, DEFAULT_HOSTS, labLayout, MAX_HOSTS } from "./layout";
import { PreflightError } from "./packages";
import { labUp } from "./up";
import { labDown } from "./down";
import { formatStatus, labStatus } from "./status";
import { edgesUp } from "./edges";

/**
 * npm run lab:libvirt -- up [--hosts N] [--data DIR] [--base-port P]
 * npm run lab:libvirt -- down [--data DIR]
 * npm run lab:libvirt -- status [--data DIR] [--json]
 */

const USAGE = `usage: npm run lab:libvirt -- <up|down|status> [--hosts N (default ${DEFAULT_HOSTS})] [--data DIR (default ${DEFAULT_DIR})] [--base-port P (default ${DEFAULT_BASE_PORT}; host i listens on P+i)] [--json]`;

function log(line: string): void {
  console.log(`[lab:libvirt] ${line}`);
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: {
      hosts: { type: "string" },
      data: { type: "string" },
      "base-port": { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const command = positionals[0];
  if (values.help || !command || positionals.length > 1) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const layout = labLayout(values.data ?? DEFAULT_DIR);
  if (command === "up") {
    const hosts = Number(values.hosts ?? DEFAULT_HOSTS);
    const basePort = Number(values["base-port"] ?? DEFAULT_BASE_PORT);
    if (!Number.isInteger(hosts) || hosts < 3 || hosts > MAX_HOSTS) {
      throw new PreflightError(`--hosts must be 3..${MAX_HOSTS} (one NEST, one LOADING, the rest PRODUCTION)`);
    }
    if (!Number.isInteger(basePort) || basePort < 1024 || basePort + hosts > 65535) {
      throw new PreflightError("--base-port must be a port number from 1024");
    }
    const { manifest, timings } = await labUp(layout, { hosts, basePort, log });
    log(`manifest: ${layout.manifestPath}`);
    for (const h of manifest.hosts)
      log(`  ${h.name} ${h.role} ${h.sshUser}@127.0.0.1:${h.sshPort} ${h.hostKeyFingerprint}`);
    log(`up in ${timings.upSeconds} s (apt ${timings.aptInstallSeconds} s)`);
    return 0;
  }
  if (command === "down") {
    await labDown(layout, log);
    return 0;
  }
  if (command === "status") {
    const s = await labStatus(layout);
    if (!s) {
      log(`no lab manifest at ${layout.manifestPath}: run up first`);
      return 1;
    }
    console.log(values.json ? JSON.stringify(s, null, 2) : formatStatus(s));
    return s.bridge && s.hosts.every((h) => h.sshd && h.virsh === "answers") && edgesUp(s) ? 0 : 1;
  }
  console.log(USAGE);
  return 2;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof PreflightError) console.error(`[lab:libvirt] cannot proceed: ${e.message}`);
    else console.error(`[lab:libvirt] failed:`, e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
