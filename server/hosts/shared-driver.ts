import { log } from "../log";
import { SshHostDriver, type HostDriver } from "./driver";

const globalForDriver = globalThis as unknown as { vmatrixDriver?: HostDriver };

/** The web process's connection pool to hosts (registration, probes), reused across requests. */
export function sharedDriver(): HostDriver {
  globalForDriver.vmatrixDriver ??= new SshHostDriver({
    connectTimeoutMs: 5000,
    commandTimeoutMs: 15_000,
    log: log.child({ component: "ssh" }),
  });
  return globalForDriver.vmatrixDriver;
}
