import { readFile } from "node:fs/promises";
import type { Builtin, Io } from "../context";
import { write } from "../streams";
import type { SimChain, SimEdgeData } from "./state";

/**
 * nftables 1.0.6 on a sim edge: `nft list table FAMILY NAME` and `nft -f FILE|-` with the
 * statements the edge driver writes (declare, delete and define a table with base chains
 * and rules). A script is one transaction: any error leaves every table as it was.
 */

const RULE_SHAPES = [
  /^ct state established,related accept$/,
  /^ct status dnat (accept|drop)( comment "[^"]*")?$/,
  /^ip daddr \d{1,3}(\.\d{1,3}){3}(\/\d{1,2})? ((tcp|udp) dport \d{1,5} )?(ct status dnat )?(accept|drop)( comment "[^"]*")?$/,
  /^ip daddr \d{1,3}(\.\d{1,3}){3} (tcp|udp) dport \d{1,5} (meta mark set 0x[0-9a-f]{8} ct mark set 0x[0-9a-f]{8} )?dnat to \d{1,3}(\.\d{1,3}){3}:\d{1,5}( comment "[^"]*")?$/,
  /^ct direction original meta mark set ct mark$/,
  /^(tcp|udp) dport \d{1,5} (accept|drop)$/,
];
const HEADER =
  /^type (filter|nat) hook (prerouting|input|forward|output|postrouting) priority (dstnat|filter|srcnat|mangle|-?\d+); policy (accept|drop);$/;

class NftError extends Error {}

export const nft: Builtin = async (argv, io, ctx) => {
  const edge = ctx.host.edge;
  if (!edge) {
    await write(io.stderr, "bash: nft: command not found\n");
    return 127;
  }
  const args = argv.slice(1);
  if (args[0] === "list" && args[1] === "table" && args.length === 4) {
    const table = edge.data.tables[`${args[2]} ${args[3]}`];
    if (!table) {
      const cmd = `list table ${args[2]} ${args[3]}`;
      await write(
        io.stderr,
        `Error: No such file or directory\n${cmd}\n${" ".repeat(cmd.length - args[3]!.length)}${"^".repeat(args[3]!.length)}\n`,
      );
      return 1;
    }
    await write(io.stdout, printTable(args[2]!, args[3]!, table));
    return 0;
  }
  if (args[0] === "-f" && args.length === 2) {
    let script: string;
    if (args[1] === "-") script = await readAll(io);
    else {
      try {
        script = await readFile(ctx.host.fs.real(ctx.host.fs.virtual(args[1]!, ctx.cwd)), "utf8");
      } catch {
        await write(io.stderr, `Error: Could not process rule: No such file or directory\n`);
        return 1;
      }
    }
    const copy = structuredClone(edge.data.tables);
    try {
      runScript(copy, script);
    } catch (err) {
      if (!(err instanceof NftError)) throw err;
      await write(io.stderr, `${err.message}\n`);
      return 1;
    }
    edge.data.tables = copy;
    await edge.save();
    return 0;
  }
  await write(io.stderr, "Error: the sim edge supports only: nft list table FAMILY NAME | nft -f FILE|-\n");
  return 1;
};

async function readAll(io: Io): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of io.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function printTable(family: string, name: string, chains: Record<string, SimChain>): string {
  const body = Object.entries(chains).map(
    ([chain, c]) => `\tchain ${chain} {\n\t\t${c.header}\n${c.rules.map((r) => `\t\t${r}\n`).join("")}\t}\n`,
  );
  return `table ${family} ${name} {\n${body.join("\n")}}\n`;
}

const collapse = (s: string) => s.trim().replace(/\s+/g, " ");

function runScript(tables: SimEdgeData["tables"], script: string): void {
  const lines = script.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = collapse(lines[i]!.replace(/#.*$/, ""));
    if (line === "") continue;
    let m = /^table (ip|ip6|inet) ([A-Za-z][A-Za-z0-9_]*)( \{)?$/.exec(line);
    if (m) {
      const key = `${m[1]} ${m[2]}`;
      tables[key] ??= {};
      if (m[3]) i = defineTable(tables[key], lines, i + 1, i + 1);
      continue;
    }
    m = /^delete table (ip|ip6|inet) ([A-Za-z][A-Za-z0-9_]*)$/.exec(line);
    if (m) {
      if (!tables[`${m[1]} ${m[2]}`])
        throw new NftError(`Error: Could not process rule: No such file or directory\n${line}`);
      delete tables[`${m[1]} ${m[2]}`];
      continue;
    }
    throw new NftError(`/dev/stdin:${i + 1}:1-${line.length}: Error: syntax error, unexpected string\n${line}`);
  }
}

/** The body of `table … {` up to its `}`: base chains with their rules. Returns the closing line's index. */
function defineTable(table: Record<string, SimChain>, lines: string[], start: number, lineNo: number): number {
  let chain: SimChain | null = null;
  for (let i = start; i < lines.length; i++) {
    const line = collapse(lines[i]!.replace(/#.*$/, ""));
    const at = `/dev/stdin:${i + 1}:1-${line.length}`;
    if (line === "") continue;
    if (chain === null) {
      if (line === "}") return i;
      const m = /^chain ([A-Za-z][A-Za-z0-9_]*) \{$/.exec(line);
      if (!m) throw new NftError(`${at}: Error: syntax error, unexpected string\n${line}`);
      chain = table[m[1]!] ??= { header: "", rules: [] };
      continue;
    }
    if (line === "}") {
      if (!chain.header)
        throw new NftError(`${at}: Error: the sim edge keeps base chains only (type … hook … priority …; policy …;)`);
      chain = null;
      continue;
    }
    if (line.startsWith("type ")) {
      if (!HEADER.test(line)) throw new NftError(`${at}: Error: syntax error, unexpected string\n${line}`);
      chain.header = line;
      continue;
    }
    if (!RULE_SHAPES.some((r) => r.test(line)))
      throw new NftError(`${at}: Error: syntax error, unexpected string\n${line}`);
    chain.rules.push(line);
  }
  throw new NftError(`/dev/stdin:${lineNo}: Error: syntax error, unexpected end of file`);
}
