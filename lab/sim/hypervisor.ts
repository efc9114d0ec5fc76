import { randomFillSync, randomUUID } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import type { HostFs } from "./host-fs";
import { FsError } from "./host-fs";

/**
 * A sim host's hypervisor: libvirt's domain model as the qemu driver behaves, kept on
 * disk so a restarted lab finds its domains. States and reasons follow libvirt
 * (running/booted, paused/user, shut off/saved, …); transient domains vanish when they
 * stop; save writes a real state file (libvirt's header + domain XML + a memory image)
 * that restore reads back, on this host or on another one.
 */

export type SimState = "running" | "paused" | "shut off";

export interface DomainConfig {
  name: string;
  uuid: string;
  type: string;
  memoryKiB: number;
  vcpus: number;
  /** Files the guest needs to boot (disks, kernel, initrd), as paths on the host. */
  files: string[];
  /** <interface> elements: each is a tap device the host counts traffic on. */
  interfaces?: number;
  xml: string;
}

interface DomainRecord {
  config: DomainConfig;
  persistent: boolean;
  state: SimState;
  reason: string;
  id: number | null;
  /** CPU time and interface bytes accounted up to `since` (ms epoch). */
  cpuNs: number;
  netRxBytes?: number;
  netTxBytes?: number;
  since: number;
  /** An ACPI shutdown was requested while paused: it completes on resume. */
  shutdownPending: boolean;
}

interface Persisted {
  nextId: number;
  domains: DomainRecord[];
}

/** A libvirt error as virsh prints it: one "error: …" line per entry. */
export class HypervisorError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join("\n"));
  }
}

export interface HypervisorOptions {
  /**
   * CPU demand of a running domain, as a fraction of each of its vCPUs (0..1). Its
   * network traffic follows the same load (NET_BYTES_PER_VCPU_SECOND at full load).
   */
  loadOf: (name: string) => number;
  /** Size of the memory image in a state file, as a fraction of guest memory. */
  saveImageFraction: number;
  /** Time a guest takes to power off after an ACPI shutdown request. */
  shutdownDelayMs: number;
}

/**
 * Traffic of a fully loaded vCPU, per second: a web front end receives requests and
 * sends larger responses. Only domains with an <interface> have counters, as in libvirt.
 */
export const NET_BYTES_PER_VCPU_SECOND = { rx: 1_250_000, tx: 6_250_000 };
/** The host's own work beside its guests (hypervisor, sshd), as a fraction of one CPU. */
const HOST_OVERHEAD_CPUS = 0.02;
/** Memory the host itself uses beside its guests. */
const HOST_BASE_KIB = 512 * 1024;

/** libvirt's qemu save header: magic, then uint32 fields, 96 bytes in all. */
const SAVE_MAGIC = "LibvirtQemudSave";
const SAVE_HEADER_BYTES = 96;

export class Hypervisor {
  private nextId = 1;
  private readonly domains = new Map<string, DomainRecord>();
  /** Host counters start at the lab's start, as /proc/stat's do at boot. */
  private readonly bootedAt = Date.now();
  /** Guest CPU time already charged to the host (settled domain time, all runs). */
  private guestBusyNs = 0;
  private persisting: Promise<void> = Promise.resolve();

  private constructor(
    private readonly statePath: string,
    private readonly fs: HostFs,
    private readonly opts: HypervisorOptions,
  ) {}

  static async open(statePath: string, fs: HostFs, opts: HypervisorOptions): Promise<Hypervisor> {
    const hv = new Hypervisor(statePath, fs, opts);
    try {
      const saved = JSON.parse(await readFile(statePath, "utf8")) as Persisted;
      hv.nextId = saved.nextId;
      const now = Date.now();
      for (const d of saved.domains) {
        // Time the lab was down is not CPU time the guest used.
        hv.domains.set(d.config.name, { ...d, since: now });
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    return hv;
  }

  /** Active domains by id, then inactive ones by name (virsh list's order). */
  list(): { id: number | null; name: string; state: SimState }[] {
    const all = [...this.domains.values()];
    const active = all.filter((d) => d.id !== null).sort((a, b) => a.id! - b.id!);
    const inactive = all.filter((d) => d.id === null).sort((a, b) => a.config.name.localeCompare(b.config.name));
    return [...active, ...inactive].map((d) => ({ id: d.id, name: d.config.name, state: d.state }));
  }

  has(name: string): boolean {
    return this.domains.has(name);
  }

  isActive(name: string): boolean {
    return this.domains.get(name)?.id != null;
  }

  state(name: string): { state: SimState; reason: string } {
    const d = this.must(name);
    return { state: d.state, reason: d.reason };
  }

  async define(xml: string): Promise<string> {
    const config = parseDomainXml(xml);
    const existing = this.domains.get(config.name);
    if (existing && existing.config.uuid !== config.uuid && xmlHasUuid(xml)) {
      throw new HypervisorError([
        `operation failed: domain '${config.name}' already exists with uuid ${existing.config.uuid}`,
      ]);
    }
    for (const d of this.domains.values()) {
      if (d.config.uuid === config.uuid && d.config.name !== config.name) {
        throw new HypervisorError([
          `operation failed: domain '${d.config.name}' already exists with uuid ${config.uuid}`,
        ]);
      }
    }
    if (existing) {
      const uuid = existing.config.uuid;
      existing.config = { ...config, uuid, xml: withUuid(config.xml, uuid) };
      existing.persistent = true;
    } else {
      this.domains.set(config.name, {
        config,
        persistent: true,
        state: "shut off",
        reason: "unknown",
        id: null,
        cpuNs: 0,
        since: Date.now(),
        shutdownPending: false,
      });
    }
    await this.persist();
    return config.name;
  }

  async undefine(name: string): Promise<void> {
    const d = this.must(name);
    if (!d.persistent)
      throw new HypervisorError(["Requested operation is not valid: cannot undefine transient domain"]);
    if (d.id === null) this.domains.delete(name);
    else d.persistent = false;
    await this.persist();
  }

  async start(name: string): Promise<void> {
    const d = this.must(name);
    if (d.id !== null) throw new HypervisorError(["Requested operation is not valid: domain is already running"]);
    await this.checkFiles(d.config);
    this.boot(d, "booted");
    await this.persist();
  }

  async shutdown(name: string): Promise<void> {
    const d = this.mustBeActive(name);
    if (d.state === "paused") d.shutdownPending = true;
    else this.scheduleShutdown(d);
  }

  async destroy(name: string): Promise<void> {
    this.stop(this.mustBeActive(name), "destroyed");
    await this.persist();
  }

  /**
   * The guest crashes (a kernel panic, qemu killed): libvirt's default `on_crash` destroy
   * leaves it "shut off (crashed)"; a transient domain vanishes. For tests and the labs'
   * fault injection; no virsh command does this.
   */
  async crash(name: string): Promise<void> {
    this.stop(this.mustBeActive(name), "crashed");
    await this.persist();
  }

  /**
   * The host loses power: every running or paused guest stops at once ("shut off
   * (unknown)" once libvirt is back, as after a host crash); transient domains vanish.
   */
  async powerLoss(): Promise<void> {
    for (const d of [...this.domains.values()]) if (d.state !== "shut off") this.stop(d, "unknown");
    await this.persist();
  }

  async suspend(name: string): Promise<void> {
    const d = this.mustBeActive(name);
    if (d.state === "running") {
      this.settle(d);
      d.state = "paused";
      d.reason = "user";
      await this.persist();
    }
  }

  async resume(name: string): Promise<void> {
    const d = this.mustBeActive(name);
    if (d.state === "running")
      throw new HypervisorError(["Requested operation is not valid: domain is already running"]);
    if (d.state === "paused") {
      d.since = Date.now();
      d.state = "running";
      d.reason = "unpaused";
      if (d.shutdownPending) this.scheduleShutdown(d);
      await this.persist();
    }
  }

  /** Writes the state file, then stops the domain ("shut off (saved)"). */
  async save(name: string, path: string): Promise<void> {
    const d = this.mustBeActive(name);
    this.settle(d);
    const xml = Buffer.from(d.config.xml, "utf8");
    const imageBytes = Math.floor(d.config.memoryKiB * 1024 * this.opts.saveImageFraction);
    const header = Buffer.alloc(SAVE_HEADER_BYTES);
    header.write(SAVE_MAGIC, 0, "latin1");
    header.writeUInt32LE(2, 16); // version
    header.writeUInt32LE(xml.length, 20); // data_len
    header.writeUInt32LE(d.state === "running" ? 1 : 0, 24); // was_running
    header.writeUInt32LE(0, 28); // compressed
    header.writeUInt32LE(0, 32); // cookieOffset
    header.writeUInt32LE(imageBytes, 36); // first "unused" word: the image length, to detect truncation
    try {
      await this.fs.writeWhole(
        path,
        [header, xml, ...memoryImage(imageBytes)],
        SAVE_HEADER_BYTES + xml.length + imageBytes,
      );
    } catch (err) {
      const code = err instanceof FsError ? err.message : String(err);
      throw new HypervisorError([`Failed to create file '${path}': ${code}`]);
    }
    this.stop(d, "saved");
    await this.persist();
  }

  /**
   * Reads a state file and runs the domain it holds ("running (restored)"). `altXml`
   * (virsh restore --xml) replaces the saved definition, e.g. with this host's disk
   * paths; its name and uuid must match the image's, as libvirt requires.
   */
  async restore(path: string, altXml?: string): Promise<void> {
    let data: Buffer;
    try {
      data = await readFile(this.fs.real(path));
    } catch (err) {
      throw new HypervisorError([
        `Failed to open file '${path}': ${new FsError((err as NodeJS.ErrnoException).code ?? "EIO", path).message}`,
      ]);
    }
    if (data.length < SAVE_HEADER_BYTES || data.toString("latin1", 0, 16) !== SAVE_MAGIC) {
      throw new HypervisorError(["operation failed: image magic is incorrect"]);
    }
    const xmlLen = data.readUInt32LE(20);
    const wasRunning = data.readUInt32LE(24) === 1;
    const imageBytes = data.readUInt32LE(36);
    if (data.length < SAVE_HEADER_BYTES + xmlLen)
      throw new HypervisorError(["operation failed: failed to read domain XML"]);
    if (data.length !== SAVE_HEADER_BYTES + xmlLen + imageBytes) {
      throw new HypervisorError([
        "internal error: qemu unexpectedly closed the monitor: load of migration failed: Input/output error",
      ]);
    }
    const saved = parseDomainXml(data.toString("utf8", SAVE_HEADER_BYTES, SAVE_HEADER_BYTES + xmlLen));
    const config = altXml === undefined ? saved : parseDomainXml(altXml);
    if (config.uuid !== saved.uuid) {
      throw new HypervisorError([
        `unsupported configuration: Target domain uuid ${config.uuid} does not match source ${saved.uuid}`,
      ]);
    }
    if (config.name !== saved.name) {
      throw new HypervisorError([
        `unsupported configuration: Target domain name '${config.name}' does not match source '${saved.name}'`,
      ]);
    }
    let d = this.domains.get(config.name);
    if (d && d.config.uuid !== config.uuid) {
      throw new HypervisorError([
        `operation failed: domain '${config.name}' is already defined with uuid ${d.config.uuid}`,
      ]);
    }
    if (d && d.id !== null)
      throw new HypervisorError([`Requested operation is not valid: domain '${config.name}' is already active`]);
    await this.checkFiles(config);
    if (!d) {
      d = {
        config,
        persistent: false,
        state: "shut off",
        reason: "unknown",
        id: null,
        cpuNs: 0,
        since: Date.now(),
        shutdownPending: false,
      };
      this.domains.set(config.name, d);
    }
    this.boot(d, "restored");
    if (!wasRunning) {
      d.state = "paused";
      d.reason = "user";
    }
    await this.persist();
  }

  /**
   * virsh domstats --cpu-total --balloon [--interface] fields, in the order libvirt 9.0's
   * qemu driver prints them for a session daemon. An inactive domain still shows CPU time
   * (that of its last run) but no live balloon or interface figures.
   */
  stats(name: string, groups: { interface?: boolean } = {}): [string, string][] {
    const d = this.must(name);
    const mem = String(d.config.memoryKiB);
    // Like /proc-based accounting: whole 10 ms ticks.
    const cpu = Math.floor(this.cpuNs(d, Date.now()) / 1e7) * 1e7;
    const user = Math.floor((cpu * 0.6) / 1e7) * 1e7;
    const cpuFields: [string, string][] = [
      ["cpu.time", String(cpu)],
      ["cpu.user", String(user)],
      ["cpu.system", String(cpu - user)],
    ];
    if (d.id === null) return [...cpuFields, ["balloon.current", mem], ["balloon.maximum", mem]];
    return [
      ...cpuFields,
      ["cpu.cache.monitor.count", "0"],
      ["cpu.haltpoll.success.time", "0"],
      ["cpu.haltpoll.fail.time", "0"],
      ["balloon.current", mem],
      ["balloon.maximum", mem],
      ["balloon.last-update", "0"],
      ["balloon.rss", String(this.rssKiB(d))],
      ...(groups.interface ? this.interfaceFields(d) : []),
    ];
  }

  /**
   * Host CPU times for virsh nodecpustats (ns since the lab started): its guests' CPU
   * time plus a little of its own, the rest idle, in whole 10 ms ticks like /proc/stat.
   */
  nodeCpuTimes(cpus: number): { userNs: number; systemNs: number; idleNs: number; iowaitNs: number } {
    const now = Date.now();
    const elapsedNs = (now - this.bootedAt) * 1e6;
    let busy = this.guestBusyNs + elapsedNs * HOST_OVERHEAD_CPUS;
    for (const d of this.domains.values()) busy += this.cpuNs(d, now) - d.cpuNs;
    const tick = (ns: number) => Math.floor(ns / 1e7) * 1e7;
    const total = elapsedNs * cpus;
    const iowait = tick(total * 0.001);
    const user = tick(busy * 0.6);
    const system = tick(busy) - user;
    return { userNs: user, systemNs: system, idleNs: Math.max(0, tick(total - busy - iowait)), iowaitNs: iowait };
  }

  /** Host memory in use: its own plus each active guest's resident memory (KiB). */
  memoryInUseKiB(): number {
    let used = HOST_BASE_KIB;
    for (const d of this.domains.values()) if (d.id !== null) used += this.rssKiB(d);
    return used;
  }

  private rssKiB(d: DomainRecord): number {
    const load = d.state === "running" ? this.load(d.config.name) : 0;
    return Math.round(Math.min(d.config.memoryKiB * 1.25, d.config.memoryKiB * (0.35 + 0.5 * load) + 20_000));
  }

  /** net.* fields: one tap device per <interface>, traffic split evenly between them. */
  private interfaceFields(d: DomainRecord): [string, string][] {
    const n = d.config.interfaces ?? 0;
    const out: [string, string][] = [["net.count", String(n)]];
    const { rx, tx } = this.netBytes(d, Date.now());
    for (let i = 0; i < n; i++) {
      const share = (total: number) => String(Math.floor(total / n));
      // Packets as an MTU-sized average, so counters stay consistent with the bytes.
      const pkts = (bytes: number) => String(Math.floor(bytes / n / 1400));
      out.push(
        [`net.${i}.name`, `vnet${(d.id ?? 0) * 8 + i}`],
        [`net.${i}.rx.bytes`, share(rx)],
        [`net.${i}.rx.pkts`, pkts(rx)],
        [`net.${i}.rx.errs`, "0"],
        [`net.${i}.rx.drop`, "0"],
        [`net.${i}.tx.bytes`, share(tx)],
        [`net.${i}.tx.pkts`, pkts(tx)],
        [`net.${i}.tx.errs`, "0"],
        [`net.${i}.tx.drop`, "0"],
      );
    }
    return out;
  }

  /** Called before a domain's load changes, so past time is charged at the old load. */
  settleLoad(name: string): void {
    const d = this.domains.get(name);
    if (d) this.settle(d);
  }

  private boot(d: DomainRecord, reason: string): void {
    d.id = this.nextId++;
    d.state = "running";
    d.reason = reason;
    d.cpuNs = 0;
    // A new run gets new tap devices, whose counters start at zero.
    d.netRxBytes = 0;
    d.netTxBytes = 0;
    d.since = Date.now();
    d.shutdownPending = false;
  }

  private stop(d: DomainRecord, reason: string): void {
    this.settle(d);
    d.id = null;
    d.state = "shut off";
    d.reason = reason;
    d.shutdownPending = false;
    if (!d.persistent) this.domains.delete(d.config.name);
  }

  private scheduleShutdown(d: DomainRecord): void {
    d.shutdownPending = false;
    const id = d.id;
    setTimeout(() => {
      // Only if it is still the same run of the same domain.
      if (this.domains.get(d.config.name) === d && d.id === id && d.state === "running") {
        this.stop(d, "shutdown");
        void this.persist();
      }
    }, this.opts.shutdownDelayMs).unref();
  }

  private async checkFiles(config: DomainConfig): Promise<void> {
    for (const file of config.files) {
      if (!(await this.fs.exists(file))) {
        throw new HypervisorError([`Cannot access storage file '${file}': No such file or directory`]);
      }
    }
  }

  private load(name: string): number {
    return Math.min(1, Math.max(0, this.opts.loadOf(name)));
  }

  private cpuNs(d: DomainRecord, now: number): number {
    if (d.state !== "running") return d.cpuNs;
    return d.cpuNs + (now - d.since) * 1e6 * d.config.vcpus * this.load(d.config.name);
  }

  /** Interface bytes up to `now`; a domain without interfaces has no traffic to count. */
  private netBytes(d: DomainRecord, now: number): { rx: number; tx: number } {
    const rx = d.netRxBytes ?? 0;
    const tx = d.netTxBytes ?? 0;
    if (d.state !== "running" || !d.config.interfaces) return { rx, tx };
    const vcpuSeconds = ((now - d.since) / 1000) * d.config.vcpus * this.load(d.config.name);
    return { rx: rx + vcpuSeconds * NET_BYTES_PER_VCPU_SECOND.rx, tx: tx + vcpuSeconds * NET_BYTES_PER_VCPU_SECOND.tx };
  }

  private settle(d: DomainRecord): void {
    const now = Date.now();
    const cpu = this.cpuNs(d, now);
    const net = this.netBytes(d, now);
    this.guestBusyNs += cpu - d.cpuNs;
    d.cpuNs = cpu;
    d.netRxBytes = net.rx;
    d.netTxBytes = net.tx;
    d.since = now;
  }

  private must(name: string): DomainRecord {
    const d = this.domains.get(name);
    if (!d) throw new HypervisorError([`Domain not found: no domain with matching name '${name}'`]);
    return d;
  }

  private mustBeActive(name: string): DomainRecord {
    const d = this.must(name);
    if (d.id === null) throw new HypervisorError(["Requested operation is not valid: domain is not running"]);
    return d;
  }

  /** Serialized writes (tmp + rename) so the file is never half-written. */
  private persist(): Promise<void> {
    const snapshot: Persisted = { nextId: this.nextId, domains: [...this.domains.values()] };
    const text = JSON.stringify(snapshot);
    this.persisting = this.persisting.then(async () => {
      await writeFile(`${this.statePath}.tmp`, text);
      await rename(`${this.statePath}.tmp`, this.statePath);
    });
    return this.persisting;
  }
}

/** The few domain XML elements the sim needs, with libvirt's messages when missing. */
export function parseDomainXml(xml: string): DomainConfig {
  const root = /^\s*(?:<\?xml[^>]*\?>\s*)?<([A-Za-z_][\w.-]*)([^>]*)>/.exec(xml);
  if (!root) throw new HypervisorError(["(domain_definition):1: Start tag expected, '<' not found"]);
  if (root[1] !== "domain")
    throw new HypervisorError([`XML error: unexpected root element <${root[1]}>, expecting <domain>`]);
  const type = /\btype=['"]([^'"]+)['"]/.exec(root[2]!)?.[1];
  if (!type) throw new HypervisorError(["XML error: missing domain type attribute"]);
  if (type !== "qemu" && type !== "kvm")
    throw new HypervisorError([`invalid argument: virt type '${type}' is not supported`]);
  const name = /<name>\s*([^<]*?)\s*<\/name>/.exec(xml)?.[1];
  if (!name) throw new HypervisorError(["missing name information"]);
  const uuid = /<uuid>\s*([0-9a-fA-F-]{36})\s*<\/uuid>/.exec(xml)?.[1]?.toLowerCase() ?? randomUUID();
  const memory = /<memory(?:\s+unit=['"](\w+)['"])?\s*>\s*(\d+)\s*<\/memory>/.exec(xml);
  if (!memory)
    throw new HypervisorError(["XML error: Memory size must be specified via <memory> or in the <numa> configuration"]);
  const vcpus = Number(/<vcpu\b[^>]*>\s*(\d+)\s*<\/vcpu>/.exec(xml)?.[1] ?? 1);
  const files = [
    ...[...xml.matchAll(/<disk\b[\s\S]*?<\/disk>/g)].flatMap((m) => [
      ...(/<source\s+file=['"]([^'"]+)['"]/.exec(m[0])?.slice(1) ?? []),
    ]),
    ...[...xml.matchAll(/<(kernel|initrd)>\s*([^<]+?)\s*<\/\1>/g)].map((m) => m[2]!),
  ];
  const interfaces = (xml.match(/<interface\b/g) ?? []).length;
  // Like libvirt's own XML, the stored copy always carries the uuid (save images too).
  return {
    name,
    uuid,
    type,
    memoryKiB: toKiB(Number(memory[2]), memory[1] ?? "KiB"),
    vcpus,
    files,
    interfaces,
    xml: withUuid(xml, uuid),
  };
}

function withUuid(xml: string, uuid: string): string {
  if (xmlHasUuid(xml)) return xml.replace(/<uuid>[^<]*<\/uuid>/, `<uuid>${uuid}</uuid>`);
  return xml.replace(/(<name>[^<]*<\/name>)/, `$1\n  <uuid>${uuid}</uuid>`);
}

function xmlHasUuid(xml: string): boolean {
  return /<uuid>/.test(xml);
}

function toKiB(value: number, unit: string): number {
  const factors: Record<string, number> = {
    b: 1 / 1024,
    bytes: 1 / 1024,
    k: 1,
    KiB: 1,
    KB: 1000 / 1024,
    M: 1024,
    MiB: 1024,
    MB: 1e6 / 1024,
    G: 1024 ** 2,
    GiB: 1024 ** 2,
    GB: 1e9 / 1024,
  };
  const f = factors[unit];
  if (f === undefined) throw new HypervisorError([`invalid argument: unknown suffix '${unit}'`]);
  return Math.round(value * f);
}

/** Incompressible bytes standing in for guest memory, produced a megabyte at a time. */
function* memoryImage(bytes: number): Generator<Buffer> {
  const block = 1024 * 1024;
  for (let done = 0; done < bytes; done += block) yield randomFillSync(Buffer.alloc(Math.min(block, bytes - done)));
}
