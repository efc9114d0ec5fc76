import { describe, expect, it } from "vitest";
import {
  cliMessage,
  parseServersConn,
  parseServersState,
  parseShowMap,
  parseShowTable,
  SERVERS_STATE_HEADER,
} from "./haproxy-output";

// Answers as HAProxy 2.6 writes them on the stats socket (src/proxy.c, src/map.c), CLI LF included.
describe("HAProxy runtime API parsers", () => {
  it("reads show servers state: address, port and the admin state from its bit mask", () => {
    const out = `1\n${SERVERS_STATE_HEADER}\n3 map 1 map-1 10.0.0.5 2 0 1 1 42 1 0 0 0 0 0 0 - 80 - 0 0 - - 0\n3 map 2 map-2 10.0.0.6 2 8 1 1 3 1 0 0 0 0 0 0 - 80 - 0 0 - - 0\n3 map 3 map-3 10.0.0.7 0 1 1 1 0 1 0 0 0 0 0 0 - 8080 - 0 0 - - 0\n\n`;
    expect(parseServersState(out)).toEqual([
      { backend: "map", server: "map-1", address: "10.0.0.5", port: 80, opState: 2, admin: "ready" },
      { backend: "map", server: "map-2", address: "10.0.0.6", port: 80, opState: 2, admin: "drain" },
      { backend: "map", server: "map-3", address: "10.0.0.7", port: 8080, opState: 0, admin: "maint" },
    ]);
    expect(parseServersState(`1\n${SERVERS_STATE_HEADER}\n\n`)).toEqual([]);
  });

  it("refuses another format version, other fields, or a missing final empty line", () => {
    expect(() => parseServersState(`2\n${SERVERS_STATE_HEADER}\n\n`)).toThrow(/version 1/);
    expect(() => parseServersState(`1\n# be_id be_name\n\n`)).toThrow(/field names/);
    expect(() => parseServersState(`1\n${SERVERS_STATE_HEADER}\n3 map 1 map-1 10.0.0.5 2 0\n\n`)).toThrow(/25 fields/);
    expect(() => parseServersState(`1\n${SERVERS_STATE_HEADER}\n`)).toThrow(/empty line/);
    expect(() => parseServersState("Can't find backend.\n\n")).toThrow();
  });

  it("reads show servers conn: connections in use and idle, whatever the thread count", () => {
    const out =
      "# bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr[2]\nmap/map-1 3/1 10.0.0.5 80 - 5000 4 9 4 0 0 -1 2 1 1\nmap/map-2 3/2 10.0.0.6 80 - 5000 0 1 0 0 0 -1 0 0 0\n\n";
    expect(parseServersConn(out)).toEqual([
      { backend: "map", server: "map-1", used: 4, idle: 2 },
      { backend: "map", server: "map-2", used: 0, idle: 0 },
    ]);
    expect(() => parseServersConn("# something else\n\n")).toThrow(/header/);
  });

  it("reads show map entries and the CLI's messages", () => {
    expect(parseShowMap("0x55d0c0de0040 192.0.2.1 map\n0x55d0c0de0080 192.0.2.2 finance\n\n")).toEqual([
      { key: "192.0.2.1", value: "map" },
      { key: "192.0.2.2", value: "finance" },
    ]);
    expect(parseShowMap("\n")).toEqual([]);
    expect(() => parseShowMap("Unknown map identifier. Please use #<id> or <file>.\n\n")).toThrow();
    expect(cliMessage("New server registered.\n\n")).toBe("New server registered.");
    expect(cliMessage("\n")).toBe("");
  });

  it("reads a stick table's requests per client (HAProxy 2.6.12's own answer)", () => {
    const out =
      "# table: map, type: ip, size:102400, used:2\n" +
      "0x55f4c0d5c888: key=127.0.0.1 use=0 exp=3599983 gpt0=2 http_req_cnt=3\n" +
      "0x7fc47004a9d8: key=10.9.9.9 use=1 exp=3599992 gpt0=0 http_req_cnt=1\n\n";
    expect(parseShowTable(out)).toEqual([
      { address: "127.0.0.1", requests: 3, counted: 2 },
      { address: "10.9.9.9", requests: 1, counted: 0 },
    ]);
    expect(parseShowTable("# table: map, type: ip, size:102400, used:0\n\n")).toEqual([]);
    expect(() => parseShowTable("0x1: key=1.2.3.4 use=0 exp=1 conn_cnt=3\n\n")).toThrow(/stick-table entry/);
  });
});
