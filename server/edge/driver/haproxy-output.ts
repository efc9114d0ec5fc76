/**
 * Strict parsers for HAProxy 2.6's runtime API (the stats socket, "level admin") as the
 * edge's `socat` hands it back. Every answer ends with an empty line (the CLI's
 * post-command LF); an answer of any other shape is an OutputShapeError, never a guess.
 * Formats from HAProxy 2.6 (src/proxy.c dump_servers_state, src/map.c, src/server.c).
 */

export class OutputShapeError extends Error {}

/** `show servers state` header, format version 1 (25 fields). */
export const SERVERS_STATE_HEADER =
  "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port";
const CONN_HEADER_RE =
  /^# bkname\/svname bkid\/svid addr port - purge_delay used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr\[(\d+)\]$/;

/** Administrative state bits (srv_admin_state). */
const ADMF_MAINT = 0x01 | 0x02 | 0x04 | 0x20 | 0x40;
const ADMF_DRAIN = 0x08 | 0x10;

export type ServerAdminState = "ready" | "drain" | "maint";

export interface ServerState {
  backend: string;
  server: string;
  address: string;
  port: number;
  /** 0 stopped, 1 starting, 2 running, 3 stopping. */
  opState: number;
  admin: ServerAdminState;
}

export interface ServerConnections {
  backend: string;
  server: string;
  /** Connections to the server in use by streams now. */
  used: number;
  /** Idle (reusable) connections kept to it. */
  idle: number;
}

export interface MapEntry {
  key: string;
  value: string;
}

/** Lines of one answer, without the CLI's final empty line. */
function answerLines(output: string): string[] {
  if (!output.endsWith("\n\n") && output !== "\n")
    throw new OutputShapeError("the answer does not end with the CLI's empty line");
  return output === "\n" ? [] : output.slice(0, -2).split("\n");
}

const int = (s: string, what: string) => {
  if (!/^-?\d+$/.test(s)) throw new OutputShapeError(`${what} is not an integer: ${JSON.stringify(s)}`);
  return Number(s);
};

export function parseServersState(output: string): ServerState[] {
  const lines = answerLines(output);
  if (lines[0] !== "1") throw new OutputShapeError(`expected format version 1, got ${JSON.stringify(lines[0] ?? "")}`);
  if (lines[1] !== SERVERS_STATE_HEADER) throw new OutputShapeError("unexpected field names");
  return lines.slice(2).map((line) => {
    const f = line.split(" ");
    if (f.length !== 25) throw new OutputShapeError(`expected 25 fields, got ${f.length}: ${JSON.stringify(line)}`);
    const admin = int(f[6]!, "srv_admin_state");
    return {
      backend: f[1]!,
      server: f[3]!,
      address: f[4]!,
      port: int(f[18]!, "srv_port"),
      opState: int(f[5]!, "srv_op_state"),
      admin: admin & ADMF_MAINT ? "maint" : admin & ADMF_DRAIN ? "drain" : "ready",
    };
  });
}

export function parseServersConn(output: string): ServerConnections[] {
  const lines = answerLines(output);
  const header = CONN_HEADER_RE.exec(lines[0] ?? "");
  if (!header) throw new OutputShapeError("unexpected header of show servers conn");
  return lines.slice(1).map((line) => {
    const f = line.split(" ");
    // name/name id/id addr port - purge used max need unsafe safe idle_lim idle_cur [per thread…]
    if (f.length < 13 || f[4] !== "-") throw new OutputShapeError(`unexpected server line: ${JSON.stringify(line)}`);
    const [backend, server, extra] = f[0]!.split("/");
    if (!backend || !server || extra !== undefined)
      throw new OutputShapeError(`unexpected backend/server: ${JSON.stringify(f[0])}`);
    return { backend, server, used: int(f[6]!, "used_cur"), idle: int(f[12]!, "idle_cur") };
  });
}

/** `show map FILE`: "<pointer> <key> <value>" per entry. */
export function parseShowMap(output: string): MapEntry[] {
  return answerLines(output).map((line) => {
    const m = /^0x[0-9a-f]+ (\S+) (\S+)$/.exec(line);
    if (!m) throw new OutputShapeError(`unexpected map entry: ${JSON.stringify(line)}`);
    return { key: m[1]!, value: m[2]! };
  });
}

/** The CLI's words for a command that changes something: the message, trimmed ("" for silent success). */
export function cliMessage(output: string): string {
  if (!output.endsWith("\n")) throw new OutputShapeError("the answer does not end with a newline");
  return output.trim();
}

/** Messages of HAProxy 2.6 that mean "the thing is not there" (idempotent removal). */
export const NOT_FOUND_MESSAGES = ["No such server.", "Key not found."];
export const SERVER_ADDED = "New server registered.";
export const SERVER_DELETED = "Server deleted.";
export const SERVER_EXISTS = "Already exists a server with the same name in backend.";
export const SERVER_BUSY = "Server still has connections attached to it, cannot remove it.";

/** One client of a backend's stick table: its address, its requests, and how many of them were already counted. */
export interface ClientCount {
  address: string;
  /** http_req_cnt: requests since the client's entry was made (it lives while the client comes back within the expiry). */
  requests: number;
  /** gpt0: the `requests` value last recorded as demand (the collector sets it after writing). */
  counted: number;
}

/**
 * `show table BACKEND` on a table of `type ip … store http_req_cnt,gpt0`: a "# table: …"
 * header, then "<pointer>: key=<address> use=<n> exp=<ms> gpt0=<n> http_req_cnt=<n>" per client (HAProxy 2.6).
 */
export function parseShowTable(output: string): ClientCount[] {
  return answerLines(output)
    .filter((line) => !line.startsWith("# table:"))
    .map((line) => {
      const m = /^0x[0-9a-f]+: key=(\S+) .*\bgpt0=(\d+) .*\bhttp_req_cnt=(\d+)$/.exec(line);
      if (!m) throw new OutputShapeError(`unexpected stick-table entry: ${JSON.stringify(line)}`);
      return { address: m[1]!, requests: int(m[3]!, "http_req_cnt"), counted: int(m[2]!, "gpt0") };
    });
}
