import type { LabHost } from "../manifest";
import type { HostTarget } from "../../server/hosts/driver";

/** How the driver addresses a lab host (the registry does the same from its rows). */
export function labHostTarget(h: LabHost): HostTarget {
  return {
    name: h.name,
    address: h.sshHost,
    port: h.sshPort,
    user: h.sshUser,
    privateKey: { path: h.privateKeyPath },
    hostKeyFingerprint: h.hostKeyFingerprint,
    vmDir: h.vmDir,
  };
}
