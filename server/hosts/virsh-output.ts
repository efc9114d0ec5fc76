import type { VirshErrorKind } from "./errors";

/**
 * Strict parsers for virsh's own output (checked against virsh 9.0; the quoted-name
 * messages exist since libvirt 5.x). Each parser accepts exactly the documented shape and
 * throws OutputShapeError otherwise; virsh.ts turns that into an UnexpectedOutputError
 * naming the host and the command.
 */

export class OutputShapeError extends Error {
  override readonly name = "OutputShapeError";
}

/** virsh's state words (virshDomainStateToString). */
export const DOMAIN_STATES = [
  "no state",
  "running",
  "idle",
  "paused",
  "in shutdown",
  "shut off",
  "crashed",
  "pmsuspended",
] as const;
export type DomainState = (typeof DOMAIN_STATES)[number];

export interface DomainStateWithReason {
  state: DomainState;
  /** virsh's reason text, e.g. "booted", "restored", "user", "saved", "destroyed". */
  reason: string;
}

export interface DomainListEntry {
  /** Runtime id for active domains, null for inactive ones ("-"). */
  id: number | null;
  name: string;
  state: DomainState;
}

export interface DomainStats {
  name: string;
  /** Present only for active domains. */
  cpuTimeNs: number | null;
  cpuUserNs: number | null;
  cpuSystemNs: number | null;
  balloonCurrentKiB: number | null;
  balloonMaximumKiB: number | null;
  /** Host memory used by the guest process, active domains only. */
  balloonRssKiB: number | null;
  /**
   * Bytes through all the domain's interfaces (`--interface`: net.N.rx.bytes / tx.bytes
   * summed); null when no interface reports counters (none asked for, none defined, or
   * user-mode networking, which has no host-side device to count on).
   */
  netRxBytes: number | null;
  netTxBytes: number | null;
  /** Every field as printed, for callers that need more. */
  fields: Record<string, string>;
}

export interface NodeInfo {
  cpuModel: string;
  cpus: number;
  cpuFrequencyMHz: number;
  sockets: number;
  coresPerSocket: number;
  threadsPerCore: number;
  numaCells: number;
  memoryKiB: number;
}

/**
 * Cumulative host CPU time (virsh nodecpustats, ns since boot, all CPUs). Linux reports
 * user (+nice), system (kernel + irq + softirq), idle and iowait; other platforms may
 * report intr instead of iowait.
 */
export interface NodeCpuTimes {
  userNs: number;
  systemNs: number;
  idleNs: number;
  iowaitNs: number | null;
  intrNs: number | null;
}

/** Host memory (virsh nodememstats, KiB); buffers and cached exist on Linux only. */
export interface NodeMemory {
  totalKiB: number;
  freeKiB: number;
  buffersKiB: number | null;
  cachedKiB: number | null;
}

export interface VirshVersion {
  libvirt: string;
  /** e.g. "QEMU" */
  hypervisor: string;
  hypervisorVersion: string;
}

const STATE_ALTERNATION = DOMAIN_STATES.map((s) => s.replace(" ", "\\ ")).join("|");

/** virsh ends every command's output with one empty line; drop it, keep the rest exact. */
function lines(stdout: string): string[] {
  const text = stdout.replace(/\n+$/, "");
  return text === "" ? [] : text.split("\n");
}

function uint(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new OutputShapeError(`${what} is not an unsigned integer: ${JSON.stringify(text)}`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new OutputShapeError(`${what} is too large: ${text}`);
  return n;
}

export function parseDomState(stdout: string): DomainStateWithReason {
  const all = lines(stdout);
  const m = all.length === 1 ? new RegExp(`^(${STATE_ALTERNATION}) \\(([^()]+)\\)$`).exec(all[0]!) : null;
  if (!m) throw new OutputShapeError('expected one line "<state> (<reason>)"');
  return { state: m[1] as DomainState, reason: m[2]! };
}

export function parseDomainList(stdout: string): DomainListEntry[] {
  const all = lines(stdout);
  if (all.length < 2 || !/^ Id +Name +State$/.test(all[0]!) || !/^-+$/.test(all[1]!)) {
    throw new OutputShapeError('expected the " Id   Name   State" table header and its dashes');
  }
  const row = new RegExp(`^ (\\d+|-) +(\\S(?:.*\\S)?) +(${STATE_ALTERNATION})$`);
  return all.slice(2).map((line) => {
    const m = row.exec(line);
    if (!m) throw new OutputShapeError(`unexpected table row ${JSON.stringify(line)}`);
    return { id: m[1] === "-" ? null : uint(m[1]!, "domain id"), name: m[2]!, state: m[3] as DomainState };
  });
}

export function parseDomStats(stdout: string): DomainStats[] {
  const records: { name: string; fields: Record<string, string> }[] = [];
  let current: (typeof records)[number] | null = null;
  for (const line of stdout.split("\n")) {
    if (line === "") {
      current = null;
      continue;
    }
    const header = /^Domain: '(.+)'$/.exec(line);
    if (header) {
      current = { name: header[1]!, fields: {} };
      records.push(current);
      continue;
    }
    const field = /^ {2}([A-Za-z0-9_.-]+)=(.*)$/.exec(line);
    if (!field || !current) throw new OutputShapeError(`unexpected line ${JSON.stringify(line)}`);
    current.fields[field[1]!] = field[2]!;
  }
  return records.map(({ name, fields }) => {
    const num = (key: string): number | null => (fields[key] === undefined ? null : uint(fields[key], key));
    const nets = num("net.count") ?? 0;
    let rx: number | null = null;
    let tx: number | null = null;
    for (let i = 0; i < nets; i++) {
      const r = num(`net.${i}.rx.bytes`);
      const t = num(`net.${i}.tx.bytes`);
      if (r !== null) rx = (rx ?? 0) + r;
      if (t !== null) tx = (tx ?? 0) + t;
    }
    return {
      name,
      cpuTimeNs: num("cpu.time"),
      cpuUserNs: num("cpu.user"),
      cpuSystemNs: num("cpu.system"),
      balloonCurrentKiB: num("balloon.current"),
      balloonMaximumKiB: num("balloon.maximum"),
      balloonRssKiB: num("balloon.rss"),
      netRxBytes: rx,
      netTxBytes: tx,
      fields,
    };
  });
}

export function parseNodeInfo(stdout: string): NodeInfo {
  const fields = new Map<string, string>();
  for (const line of lines(stdout)) {
    const m = /^([A-Za-z()\- ]+):\s+(\S.*)$/.exec(line);
    if (!m) throw new OutputShapeError(`unexpected line ${JSON.stringify(line)}`);
    fields.set(m[1]!, m[2]!);
  }
  const get = (key: string): string => {
    const v = fields.get(key);
    if (v === undefined) throw new OutputShapeError(`missing "${key}"`);
    return v;
  };
  const freq = /^(\d+) MHz$/.exec(get("CPU frequency"));
  const mem = /^(\d+) KiB$/.exec(get("Memory size"));
  if (!freq) throw new OutputShapeError('"CPU frequency" is not "<n> MHz"');
  if (!mem) throw new OutputShapeError('"Memory size" is not "<n> KiB"');
  return {
    cpuModel: get("CPU model"),
    cpus: uint(get("CPU(s)"), "CPU(s)"),
    cpuFrequencyMHz: uint(freq[1]!, "CPU frequency"),
    sockets: uint(get("CPU socket(s)"), "CPU socket(s)"),
    coresPerSocket: uint(get("Core(s) per socket"), "Core(s) per socket"),
    threadsPerCore: uint(get("Thread(s) per core"), "Thread(s) per core"),
    numaCells: uint(get("NUMA cell(s)"), "NUMA cell(s)"),
    memoryKiB: uint(mem[1]!, "Memory size"),
  };
}

/** Lines "<label>: <value>" of the node stats commands, each label at most once. */
function labelled(stdout: string, line: RegExp): Map<string, string> {
  const out = new Map<string, string>();
  for (const text of lines(stdout)) {
    const m = line.exec(text);
    if (!m) throw new OutputShapeError(`unexpected line ${JSON.stringify(text)}`);
    if (out.has(m[1]!)) throw new OutputShapeError(`"${m[1]}" appears twice`);
    out.set(m[1]!, m[2]!);
  }
  return out;
}

/** `virsh nodecpustats` (no --percent): "%-15s %20llu" per field, in ns. */
export function parseNodeCpuStats(stdout: string): NodeCpuTimes {
  const f = labelled(stdout, /^(user|system|idle|iowait|intr): +(\S+)$/);
  const need = (k: string) => {
    const v = f.get(k);
    if (v === undefined) throw new OutputShapeError(`missing "${k}:"`);
    return uint(v, k);
  };
  const opt = (k: string) => (f.has(k) ? uint(f.get(k)!, k) : null);
  return {
    userNs: need("user"),
    systemNs: need("system"),
    idleNs: need("idle"),
    iowaitNs: opt("iowait"),
    intrNs: opt("intr"),
  };
}

/** `virsh nodememstats`: "%-7s: %20llu KiB" per field. */
export function parseNodeMemStats(stdout: string): NodeMemory {
  const f = labelled(stdout, /^([a-z]+) *: +(\d+) KiB$/);
  const need = (k: string) => {
    const v = f.get(k);
    if (v === undefined) throw new OutputShapeError(`missing "${k}"`);
    return uint(v, k);
  };
  const opt = (k: string) => (f.has(k) ? uint(f.get(k)!, k) : null);
  return { totalKiB: need("total"), freeKiB: need("free"), buffersKiB: opt("buffers"), cachedKiB: opt("cached") };
}

export function parseVersion(stdout: string): VirshVersion {
  let libvirt: string | undefined;
  let hypervisor: [string, string] | undefined;
  for (const line of lines(stdout)) {
    let m: RegExpExecArray | null;
    if ((m = /^Using library: libvirt (\d+\.\d+\.\d+)$/.exec(line))) libvirt = m[1];
    else if ((m = /^Running hypervisor: (\S+) (\d+\.\d+\.\d+)$/.exec(line))) hypervisor = [m[1]!, m[2]!];
    else if (!/^(Compiled against library: libvirt|Using API:) \S/.test(line)) {
      throw new OutputShapeError(`unexpected line ${JSON.stringify(line)}`);
    }
  }
  if (!libvirt) throw new OutputShapeError('missing "Using library: libvirt <version>"');
  if (!hypervisor) throw new OutputShapeError('missing "Running hypervisor: <name> <version>"');
  return { libvirt, hypervisor: hypervisor[0], hypervisorVersion: hypervisor[1] };
}

/**
 * The one-line confirmations of lifecycle commands, e.g. "Domain 'vm1' started".
 * Returns the captures after checking the line has exactly the expected shape.
 */
export type LifecycleAction =
  "define" | "undefine" | "start" | "shutdown" | "destroy" | "save" | "restore" | "suspend" | "resume";

const CONFIRMATIONS: Record<LifecycleAction, RegExp> = {
  // libvirt < 5.x printed the name without quotes; accepted so older hosts still work.
  define: /^Domain '?(.+?)'? defined from (.+)$/,
  undefine: /^Domain '(.+)' has been undefined$/,
  start: /^Domain '(.+)' started$/,
  shutdown: /^Domain '(.+)' is being shutdown$/,
  destroy: /^Domain '(.+)' destroyed$/,
  save: /^Domain '(.+)' saved to (.+)$/,
  restore: /^Domain restored from (.+)$/,
  suspend: /^Domain '(.+)' suspended$/,
  resume: /^Domain '(.+)' resumed$/,
};

export function parseConfirmation(action: LifecycleAction, stdout: string): string[] {
  // `save` prints an empty line first (room for its --verbose progress).
  const all = lines(action === "save" ? stdout.replace(/^\n/, "") : stdout);
  const m = all.length === 1 ? CONFIRMATIONS[action].exec(all[0]!) : null;
  if (!m) throw new OutputShapeError(`expected the one-line confirmation of \`virsh ${action}\``);
  return m.slice(1);
}

/** The "error: …" lines virsh writes to stderr, classified for idempotent callers. */
export function classifyVirshError(stderr: string): VirshErrorKind {
  const text = stderr.toLowerCase();
  if (/failed to get domain|domain not found|no domain with matching/.test(text)) return "domain-not-found";
  if (/already active|is already running/.test(text)) return "already-active";
  if (/not running|domain is not active/.test(text)) return "not-running";
  if (/not paused/.test(text)) return "not-paused";
  if (/already exists/.test(text)) return "already-exists";
  if (/no such file or directory/.test(text)) return "file-not-found";
  return "other";
}
