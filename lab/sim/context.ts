import type { Readable, Writable } from "node:stream";
import type { HostFs } from "./host-fs";
import type { SimEdge } from "./edge/state";
import type { Hypervisor } from "./hypervisor";

/** What a command line on a sim host can see of its host. */
export interface SimHostRuntime {
  name: string;
  address: string;
  port: number;
  user: string;
  home: string;
  vmDir: string;
  lat: number;
  lon: number;
  cpus: number;
  memoryKiB: number;
  fs: HostFs;
  /** The lab's site-wide authorized keys folder (every host's own key), read beside ~/.ssh/authorized_keys. */
  siteKeysDir?: string;
  hypervisor: Hypervisor;
  /** The host's Linux bridges (`ip -j link show type bridge`): owner segments' `vmxs<n>` and libvirt's own. */
  bridges: string[];
  /** Set on a hosting network's edge (gateway): HAProxy, nftables and addresses (lab/sim/edge). */
  edge?: SimEdge;
  /** Paths held by `flock` on this host. */
  locks: Set<string>;
  /** Simulated round-trip time from this host to an address, or null if it does not answer. */
  rttMs(address: string): Promise<number | null>;
}

export interface Io {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

export interface SimContext {
  host: SimHostRuntime;
  env: Record<string, string>;
  cwd: string;
  /** Aborted when the client sends a signal (KILL/TERM/…) or the session goes away. */
  signal: AbortSignal;
  /**
   * Runs another program by name (for `env`, `nice`, `flock`); a missing one exits 127
   * with `notFound`'s message (each launcher words it its own way).
   */
  exec(
    argv: string[],
    io: Io,
    options?: { env?: Record<string, string>; notFound?: (name: string) => string },
  ): Promise<number>;
  /** Runs a command line in a child shell (`sh -c`, for `flock -c`). */
  shell(line: string, io: Io): Promise<number>;
}

/** A command of the sim host: returns its exit status as a shell would see it. */
export type Builtin = (argv: string[], io: Io, ctx: SimContext) => Promise<number>;

/** Status of a process killed by a signal, as the shell reports it (128 + n). */
export const KILLED = 137;
export const SIGPIPE_STATUS = 141;
