import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  andThen,
  appendStdoutTo,
  commandLine,
  hostAddress,
  loginName,
  pipeline,
  plainHostPath,
  shellQuote,
  tcpPort,
  vmDirectory,
  vmName,
  vmPath,
} from "./command";
import { InvalidArgumentError } from "./errors";

/** What a real POSIX shell makes of a line: the argv it would run printf with. */
function argvSeenBySh(words: string[]): string[] {
  const line = commandLine(["printf", "%s\\0", ...words]);
  const out = execFileSync("/bin/sh", ["-c", line], { encoding: "utf8" });
  return out.split("\0").slice(0, -1);
}

const HOSTILE = [
  "; rm -rf /",
  "$(touch /tmp/vmatrix-pwned)",
  "`touch /tmp/vmatrix-pwned`",
  "a\nb",
  "../../etc/passwd",
  "with space",
  "it's",
  '"double"',
  "'; echo pwned; '",
  "\\'",
  "$HOME",
  "*",
  "a|b&c>d<e",
  "-rf",
  "",
  "tab\there",
  "ünïcode ✓",
];

describe("shellQuote / commandLine", () => {
  it("gives /bin/sh exactly the words it was given, whatever they contain", () => {
    expect(argvSeenBySh(HOSTILE)).toEqual(HOSTILE);
  });

  it("quotes every word, even plain ones", () => {
    expect(commandLine(["virsh", "start", "vm1"])).toBe("'virsh' 'start' 'vm1'");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });

  it("refuses NUL, which no shell word can carry", () => {
    expect(() => shellQuote("a\0b")).toThrow(InvalidArgumentError);
    expect(() => commandLine([])).toThrow(/argv: is empty/);
  });

  it("keeps quoted words intact through a second shell (ssh to a peer)", () => {
    const inner = commandLine(["printf", "%s\\0", ...HOSTILE]);
    const outer = commandLine(["sh", "-c", inner]);
    const out = execFileSync("/bin/sh", ["-c", outer], { encoding: "utf8" });
    expect(out.split("\0").slice(0, -1)).toEqual(HOSTILE);
  });

  it("adds only its own operators between quoted commands", () => {
    const a = commandLine(["tail", "-c", "+1", "--", "/v/x"]);
    const b = commandLine(["cat"]);
    expect(pipeline(a, b)).toBe("'tail' '-c' '+1' '--' '/v/x' | 'cat'");
    expect(appendStdoutTo(b, "/v/a b")).toBe("'cat' >> '/v/a b'");
    expect(andThen(a, b)).toBe("'tail' '-c' '+1' '--' '/v/x' && 'cat'");
    expect(() => pipeline(a)).toThrow(InvalidArgumentError);
  });
});

describe("vmName", () => {
  it.each(["vm1", "a", "web-frontend-3", "x".repeat(63)])("accepts %j", (n) => expect(vmName(n)).toBe(n));
  it.each([...HOSTILE, "Vm1", "1vm", "-vm", "vm_1", "vm.1", "x".repeat(64), "vm1\n"])(
    "refuses %j naming the field",
    (n) => {
      expect(() => vmName(n)).toThrow(InvalidArgumentError);
      expect(() => vmName(n)).toThrow(/^vmName: /);
    },
  );
  it("refuses non-strings", () => expect(() => vmName(42, "name")).toThrow("name: must be a string"));
});

describe("vmDirectory", () => {
  it("accepts plain absolute paths and drops a trailing slash", () => {
    expect(vmDirectory("/var/lib/vmatrix/vms")).toBe("/var/lib/vmatrix/vms");
    expect(vmDirectory("/srv/vms/")).toBe("/srv/vms");
  });
  it.each(["relative/dir", "/", "/a/../b", "/a/./b", "/a b", "/a%d", "/a//b", "/a;b", ""])("refuses %j", (d) => {
    expect(() => vmDirectory(d)).toThrow(/^vmDir: /);
  });
});

describe("vmPath", () => {
  const dir = "/var/lib/vmatrix/vms";
  it("resolves relative paths and accepts absolute ones inside the VM directory", () => {
    expect(vmPath(dir, "vm1.img")).toBe(`${dir}/vm1.img`);
    expect(vmPath(dir, "vm1/disk.img")).toBe(`${dir}/vm1/disk.img`);
    expect(vmPath(dir, `${dir}/vm1.state`)).toBe(`${dir}/vm1.state`);
  });
  it("accepts shell metacharacters in names (they are quoted, never interpreted)", () => {
    expect(vmPath(dir, "a;b $(c) `d` 'e'.img")).toBe(`${dir}/a;b $(c) \`d\` 'e'.img`);
  });
  it.each([
    ["../x", "'..'"],
    ["a/../../b", "'..'"],
    [`${dir}/../x`, "'..'"],
    ["/etc/passwd", "outside the VM directory"],
    [`${dir}-other/x`, "outside the VM directory"],
    [dir, "outside the VM directory"],
    ["a\nb", "control character"],
    ["a\tb", "control character"],
    ["x\0y", "NUL"],
    ["a//b", "empty segment"],
    ["a/", "empty segment"],
    [".", "'.'"],
    ["a/./b", "'.'"],
    ["back\\slash", "backslash"],
    ["", "empty"],
    ["x".repeat(256), "longer than 255"],
  ])("refuses %j (%s)", (p, reason) => {
    expect(() => vmPath(dir, p, "targetPath")).toThrow(InvalidArgumentError);
    expect(() => vmPath(dir, p, "targetPath")).toThrow(
      new RegExp(`^targetPath: .*${reason.replace(/[.*()]/g, "\\$&")}`),
    );
  });
});

describe("addresses, users, ports, host paths", () => {
  it.each(["127.0.0.1", "::1", "10.1.2.3", "host-1.example.net"])("accepts address %j", (a) =>
    expect(hostAddress(a)).toBe(a),
  );
  it.each(["127.0.0.1; rm -rf /", "-oProxyCommand=x", "a b", "$(id)", "host_1", "", "1.2.3.4\n"])(
    "refuses address %j",
    (a) => {
      expect(() => hostAddress(a)).toThrow(/^address: /);
    },
  );
  it("checks login names, ports and identity paths", () => {
    expect(loginName("vmatrix")).toBe("vmatrix");
    expect(() => loginName("root;id")).toThrow(/^user: /);
    expect(() => loginName("-l")).toThrow(/^user: /);
    expect(tcpPort(22)).toBe(22);
    expect(() => tcpPort(0)).toThrow(/^port: /);
    expect(() => tcpPort(70000)).toThrow(/^port: /);
    expect(plainHostPath("~/.ssh/id_ed25519", "key")).toBe("~/.ssh/id_ed25519");
    expect(() => plainHostPath("/home/u/%h", "key")).toThrow(/^key: /);
    expect(() => plainHostPath("/a/../b", "key")).toThrow(/^key: /);
    expect(() => plainHostPath("/a b", "key")).toThrow(/^key: /);
  });
});
