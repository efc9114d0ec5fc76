import type { Builtin } from "../context";
import { write } from "../streams";
import type { SimEdge } from "./state";

/**
 * `socat stdio UNIX-CONNECT:SOCKET` on a sim edge, with HAProxy 2.6's runtime API behind
 * the admin socket: the subset of commands the edge driver uses, with HAProxy's own
 * answers (every answer ends with the CLI's empty line; refusals are text, exit 0).
 */

const STATE_HEADER =
  "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port";
const THREADS = 2;
const MAINT = 0x01;
const DRAIN = 0x08;

export const socat: Builtin = async (argv, io, ctx) => {
  const edge = ctx.host.edge;
  if (!edge) {
    await write(io.stderr, "bash: socat: command not found\n");
    return 127;
  }
  const [, a, b] = argv;
  if (argv.length !== 3 || a !== "stdio" || !b?.startsWith("UNIX-CONNECT:")) {
    await write(
      io.stderr,
      `${timestamp()} socat[${process.pid}] E the sim edge supports only: socat stdio UNIX-CONNECT:SOCKET\n`,
    );
    return 1;
  }
  const socket = b.slice("UNIX-CONNECT:".length);
  if (socket !== edge.spec.adminSocket) {
    await write(
      io.stderr,
      `${timestamp()} socat[${process.pid}] E connect(5, AF=1 "${socket}", ${socket.length + 2}): No such file or directory\n`,
    );
    return 1;
  }
  const chunks: Buffer[] = [];
  for await (const c of io.stdin) chunks.push(c as Buffer);
  const line = Buffer.concat(chunks).toString("utf8").split("\n")[0] ?? "";
  let out = "";
  // Non-interactive mode: one line, commands separated by ';', each answer then an LF.
  for (const command of line.split(";")) out += (await runtimeCommand(edge, command.trim())) + "\n";
  await write(io.stdout, out);
  return 0;
};

function timestamp(): string {
  return new Date().toISOString().replace("T", " ").slice(0, 19).replaceAll("-", "/");
}

async function runtimeCommand(edge: SimEdge, command: string): Promise<string> {
  const w = command.split(/\s+/).filter(Boolean);
  const d = edge.data;
  const key = w.slice(0, 3).join(" ");
  // The sim edge has no data plane (no client ever sends it a request), so no stick table counts clients.
  if (w[0] === "show" && w[1] === "table") return "No such table\n";
  if (key === "show servers state" || key === "show servers conn") {
    const names = w[3] ? [w[3]] : Object.keys(d.backends);
    if (w[3] && !d.backends[w[3]]) return "Can't find backend.\n";
    const lines = names.flatMap((name) =>
      d.backends[name]!.servers.map((s) =>
        w[2] === "state" ? stateLine(name, d.backends[name]!.id, s) : connLine(name, d.backends[name]!.id, s),
      ),
    );
    const header =
      w[2] === "state"
        ? `1\n${STATE_HEADER}\n`
        : `# bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr[${THREADS}]\n`;
    return header + lines.map((l) => `${l}\n`).join("");
  }
  if (w[0] === "add" && w[1] === "server") {
    const [be, srv] = (w[2] ?? "").split("/");
    if (!srv) return "Require 'backend/server'.";
    const backend = d.backends[be!];
    if (!backend) return "No such backend.";
    if (backend.servers.some((s) => s.name === srv)) return "Already exists a server with the same name in backend.\n";
    const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(w[3] ?? "");
    // The one server keyword the driver adds: its connections bound to an interface (an owner segment's leg).
    const via = w.length === 8 && w[4] === "source" && w[5] === "0.0.0.0" && w[6] === "interface" ? w[7]! : null;
    if (!m || (w.length !== 4 && via === null))
      return `'${w.slice(3).join(" ")}' : the sim edge supports only 'add server <backend>/<server> <ipv4>:<port> [source 0.0.0.0 interface <if>]'.\n`;
    backend.servers.push({
      name: srv,
      id: backend.nextServerId++,
      address: m[1]!,
      port: Number(m[2]),
      admin: MAINT,
      used: 0,
      changedAt: Date.now(),
      ...(via ? { via } : {}),
    });
    await edge.save();
    return "New server registered.\n";
  }
  if (w[0] === "set" && w[1] === "server" && w[3] === "state") {
    const found = find(edge, w[2]);
    if (typeof found === "string") return found;
    const admin = { ready: 0, drain: DRAIN, maint: MAINT }[w[4] ?? ""];
    if (admin === undefined) return "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n";
    found.admin = admin;
    found.changedAt = Date.now();
    await edge.save();
    return "";
  }
  if (key === "shutdown sessions server") {
    const found = find(edge, w[3]);
    if (typeof found === "string") return found;
    found.used = 0;
    await edge.save();
    return "";
  }
  if (w[0] === "del" && w[1] === "server") {
    const [be, srv] = (w[2] ?? "").split("/");
    if (!srv) return "Require 'backend/server'.";
    const backend = d.backends[be!];
    if (!backend) return "No such backend.";
    const s = backend.servers.find((x) => x.name === srv);
    if (!s) return "No such server.";
    if (!(s.admin & MAINT)) return "Only servers in maintenance mode can be deleted.";
    if (s.used > 0) return "Server still has connections attached to it, cannot remove it.";
    backend.servers = backend.servers.filter((x) => x !== s);
    await edge.save();
    return "Server deleted.";
  }
  if (w[0] === "show" && w[1] === "map" && w.length === 3) {
    const entries = d.maps[w[2]!];
    if (!entries) return "Unknown map identifier. Please use #<id> or <file>.\n";
    return entries.map((e) => `0x${(0x55d0c0de0000 + e.ref * 0x40).toString(16)} ${e.key} ${e.value}\n`).join("");
  }
  if (w[0] === "add" && w[1] === "map") {
    if (w.length !== 5) return "'add map' expects three parameters: map identifier, key and value.\n";
    const entries = d.maps[w[2]!];
    if (!entries) return "Unknown map identifier. Please use #<id> or <file>.\n";
    entries.push({ key: w[3]!, value: w[4]!, ref: d.nextRef++ });
    await edge.save();
    return "";
  }
  if (w[0] === "del" && w[1] === "map") {
    if (w.length !== 4) return "This command expects two parameters: map identifier and key.\n";
    const entries = d.maps[w[2]!];
    if (!entries) return "Unknown map identifier. Please use #<id> or <file>.\n";
    if (!entries.some((e) => e.key === w[3])) return "Key not found.\n";
    d.maps[w[2]!] = entries.filter((e) => e.key !== w[3]);
    await edge.save();
    return "";
  }
  return "Unknown command. Please enter one of the following commands only:\n  help           : full commands list\n  prompt         : toggle interactive mode with prompt\n  quit           : disconnect\n";
}

function find(edge: SimEdge, arg: string | undefined) {
  const [be, srv] = (arg ?? "").split("/");
  if (!srv) return "Require 'backend/server'.\n";
  const backend = edge.data.backends[be!];
  if (!backend) return "No such backend.\n";
  return backend.servers.find((s) => s.name === srv) ?? "No such server.\n";
}

function stateLine(
  backend: string,
  beId: number,
  s: { id: number; name: string; address: string; port: number; admin: number; changedAt: number },
): string {
  const op = s.admin & MAINT ? 0 : 2;
  const since = Math.floor((Date.now() - s.changedAt) / 1000);
  return `${beId} ${backend} ${s.id} ${s.name} ${s.address} ${op} ${s.admin} 1 1 ${since} 1 0 0 0 0 0 0 - ${s.port} - 0 0 - - 0`;
}

function connLine(
  backend: string,
  beId: number,
  s: { id: number; name: string; address: string; port: number; used: number },
): string {
  return `${backend}/${s.name} ${beId}/${s.id} ${s.address} ${s.port} - 5000 ${s.used} ${s.used} ${s.used} 0 0 -1 0${" 0".repeat(THREADS)}`;
}
