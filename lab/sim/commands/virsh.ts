import { readFile } from "node:fs/promises";
import type { Builtin, SimContext } from "../context";
import { FsError } from "../host-fs";
import { HypervisorError, type Hypervisor } from "../hypervisor";
import { write } from "../streams";

/**
 * virsh as a sim host answers it: the commands the driver uses, with virsh 9.0's option
 * grammar (`--opt value`, `--opt=value`, or positional), output formats and "error: …"
 * messages. Every command's output ends with the empty line virsh prints.
 */

interface CommandSpec {
  /** Options taking a value, in the order positional arguments fill them. */
  values?: string[];
  bools?: string[];
  /** Required value options. */
  required?: string[];
  run(args: Map<string, string | true>, hv: Hypervisor, ctx: SimContext): Promise<string>;
}

const LIBVIRT_VERSION = "9.0.0";
const QEMU_VERSION = "7.2.0";
const URIS = new Set(["qemu:///session", "qemu:///system"]);

function domainArg(args: Map<string, string | true>, hv: Hypervisor): string {
  const name = args.get("domain") as string;
  // virsh looks the domain up itself before calling the API (virshCommandOptDomain).
  if (!hv.has(name)) throw new HypervisorError([`failed to get domain '${name}'`]);
  return name;
}

/** Runs an API call and prefixes its error with the message virsh adds for that command. */
async function api<T>(failure: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof HypervisorError) throw new HypervisorError([failure, ...err.lines]);
    throw err;
  }
}

const COMMANDS: Record<string, CommandSpec> = {
  list: {
    bools: ["all", "inactive"],
    async run(args, hv) {
      const rows = hv
        .list()
        .filter((d) => (args.has("all") ? true : args.has("inactive") ? d.id === null : d.id !== null));
      return table(
        ["Id", "Name", "State"],
        rows.map((d) => [d.id === null ? "-" : String(d.id), d.name, d.state]),
      );
    },
  },
  domstate: {
    values: ["domain"],
    bools: ["reason"],
    required: ["domain"],
    async run(args, hv) {
      const { state, reason } = hv.state(domainArg(args, hv));
      return args.has("reason") ? `${state} (${reason})\n` : `${state}\n`;
    },
  },
  domstats: {
    values: ["domain"],
    bools: ["cpu-total", "balloon", "interface", "list-active"],
    async run(args, hv) {
      if (!args.has("cpu-total") || !args.has("balloon"))
        throw new HypervisorError(["the sim host supports only domstats --cpu-total --balloon [--interface]"]);
      const names = args.has("domain")
        ? [domainArg(args, hv)]
        : hv
            .list()
            .filter((d) => !args.has("list-active") || d.id !== null)
            .map((d) => d.name);
      const groups = { interface: args.has("interface") };
      return names
        .map(
          (n) =>
            `Domain: '${n}'\n` +
            hv
              .stats(n, groups)
              .map(([k, v]) => `  ${k}=${v}\n`)
              .join(""),
        )
        .join("\n");
    },
  },
  define: {
    values: ["file"],
    required: ["file"],
    async run(args, hv, ctx) {
      const xml = await readXml(args.get("file") as string, ctx);
      const name = await api(`Failed to define domain from ${args.get("file")}`, () => hv.define(xml));
      return `Domain '${name}' defined from ${args.get("file")}\n`;
    },
  },
  undefine: lifecycle("undefine", "Failed to undefine domain", "has been undefined", (hv, n) => hv.undefine(n)),
  start: {
    values: ["domain"],
    required: ["domain"],
    async run(args, hv) {
      const name = domainArg(args, hv);
      // virsh refuses by itself when the domain already has an id.
      if (hv.isActive(name)) throw new HypervisorError(["Domain is already active"]);
      await api(`Failed to start domain '${name}'`, () => hv.start(name));
      return `Domain '${name}' started\n`;
    },
  },
  shutdown: lifecycle("shutdown", "Failed to shutdown domain", "is being shutdown", (hv, n) => hv.shutdown(n)),
  destroy: lifecycle("destroy", "Failed to destroy domain", "destroyed", (hv, n) => hv.destroy(n)),
  suspend: lifecycle("suspend", "Failed to suspend domain", "suspended", (hv, n) => hv.suspend(n)),
  resume: lifecycle("resume", "Failed to resume domain", "resumed", (hv, n) => hv.resume(n)),
  save: {
    values: ["domain", "file"],
    required: ["domain", "file"],
    async run(args, hv, ctx) {
      const name = domainArg(args, hv);
      const file = args.get("file") as string;
      await api(`Failed to save domain '${name}' to ${file}`, () => hv.save(name, ctx.host.fs.virtual(file, ctx.cwd)));
      return `\nDomain '${name}' saved to ${file}\n`;
    },
  },
  restore: {
    values: ["file", "xml"],
    required: ["file"],
    async run(args, hv, ctx) {
      const file = args.get("file") as string;
      const xmlFile = args.get("xml") as string | undefined;
      const xml = xmlFile === undefined ? undefined : await readXml(xmlFile, ctx);
      await api(`Failed to restore domain from ${file}`, () => hv.restore(ctx.host.fs.virtual(file, ctx.cwd), xml));
      return `Domain restored from ${file}\n`;
    },
  },
  nodeinfo: {
    async run(_args, _hv, ctx) {
      const h = ctx.host;
      const rows: [string, string][] = [
        ["CPU model", "x86_64"],
        ["CPU(s)", String(h.cpus)],
        ["CPU frequency", "2400 MHz"],
        ["CPU socket(s)", "1"],
        ["Core(s) per socket", String(h.cpus)],
        ["Thread(s) per core", "1"],
        ["NUMA cell(s)", "1"],
        ["Memory size", `${h.memoryKiB} KiB`],
      ];
      return rows.map(([k, v]) => `${(k + ":").padEnd(21)}${v}\n`).join("");
    },
  },
  // "%-15s %20llu" per field (ns), as virsh prints Linux's counters.
  nodecpustats: {
    async run(_args, hv, ctx) {
      const t = hv.nodeCpuTimes(ctx.host.cpus);
      const rows: [string, number][] = [
        ["user:", t.userNs],
        ["system:", t.systemNs],
        ["idle:", t.idleNs],
        ["iowait:", t.iowaitNs],
      ];
      return rows.map(([k, v]) => `${k.padEnd(15)} ${String(v).padStart(20)}\n`).join("");
    },
  },
  // "%-7s: %20llu KiB" per field; buffers and cached as a lightly used Linux host has.
  nodememstats: {
    async run(_args, hv, ctx) {
      const total = ctx.host.memoryKiB;
      const buffers = Math.round(total * 0.01);
      const cached = Math.round(total * 0.05);
      const free = Math.max(0, total - hv.memoryInUseKiB() - buffers - cached);
      const rows: [string, number][] = [
        ["total", total],
        ["free", free],
        ["buffers", buffers],
        ["cached", cached],
      ];
      return rows.map(([k, v]) => `${k.padEnd(7)}: ${String(v).padStart(20)} KiB\n`).join("");
    },
  },
  version: {
    async run() {
      return [
        `Compiled against library: libvirt ${LIBVIRT_VERSION}`,
        `Using library: libvirt ${LIBVIRT_VERSION}`,
        `Using API: QEMU ${LIBVIRT_VERSION}`,
        `Running hypervisor: QEMU ${QEMU_VERSION}`,
        "",
      ].join("\n");
    },
  },
};

/** virsh reads XML files itself (virFileReadAll), before any API call. */
async function readXml(file: string, ctx: SimContext): Promise<string> {
  const path = ctx.host.fs.virtual(file, ctx.cwd);
  try {
    return await readFile(ctx.host.fs.real(path), "utf8");
  } catch (err) {
    throw new HypervisorError([
      `Failed to open file '${file}': ${new FsError((err as NodeJS.ErrnoException).code ?? "EIO", path).message}`,
    ]);
  }
}

function lifecycle(
  cmd: string,
  failure: string,
  done: string,
  fn: (hv: Hypervisor, name: string) => Promise<void>,
): CommandSpec {
  return {
    values: ["domain"],
    required: ["domain"],
    async run(args, hv) {
      const name = domainArg(args, hv);
      await api(`${failure} '${name}'`, () => fn(hv, name));
      return `Domain '${name}' ${done}\n`;
    },
  };
}

/** vshTable: cells padded to the column width + 2, dashes of width + 3 per column. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => " " + (i < cells.length - 1 ? c.padEnd(widths[i]! + 2) : c)).join("") + "\n";
  return line(header) + "-".repeat(widths.reduce((a, w) => a + w + 3, 0)) + "\n" + rows.map(line).join("");
}

class VirshUsage extends Error {}

function parseCommand(name: string, spec: CommandSpec, args: string[]): Map<string, string | true> {
  const out = new Map<string, string | true>();
  const values = spec.values ?? [];
  const bools = spec.bools ?? [];
  const positional = [...values];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith("--") && a.length > 2) {
      const [opt, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      if (bools.includes(opt) && inline === undefined) out.set(opt, true);
      else if (values.includes(opt)) {
        const v = inline ?? args[++i];
        if (v === undefined) throw new VirshUsage(`expected syntax: --${opt} <string>`);
        out.set(opt, v);
        positional.splice(positional.indexOf(opt), 1);
      } else throw new VirshUsage(`command '${name}' doesn't support option ${a}`);
      continue;
    }
    const slot = positional.shift();
    if (slot === undefined) throw new VirshUsage(`unexpected data '${a}'`);
    out.set(slot, a);
  }
  for (const r of spec.required ?? []) {
    if (!out.has(r)) throw new VirshUsage(`command '${name}' requires <${r}> option`);
  }
  return out;
}

export const virsh: Builtin = async (argv, io, ctx) => {
  const fail = async (lines: string[]) => {
    await write(io.stdout, "\n");
    await write(io.stderr, lines.map((l) => `error: ${l}\n`).join(""));
    return 1;
  };
  let i = 1;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "-c" || a === "--connect") {
      const uri = argv[++i];
      if (!uri || !URIS.has(uri))
        return fail(["failed to connect to the hypervisor", `no connection driver available for ${uri ?? ""}`]);
    } else if (a.startsWith("--connect=")) {
      const uri = a.slice("--connect=".length);
      if (!URIS.has(uri))
        return fail(["failed to connect to the hypervisor", `no connection driver available for ${uri}`]);
    } else break;
  }
  const name = argv[i];
  if (name === undefined) return fail(["the sim host does not provide virsh's interactive shell"]);
  const spec = COMMANDS[name];
  if (!spec) return fail([`unknown command: '${name}'`]);
  try {
    const out = await spec.run(parseCommand(name, spec, argv.slice(i + 1)), ctx.host.hypervisor, ctx);
    await write(io.stdout, out + "\n");
    return 0;
  } catch (err) {
    if (err instanceof VirshUsage) return fail([err.message]);
    if (err instanceof HypervisorError) return fail(err.lines);
    throw err;
  }
};
