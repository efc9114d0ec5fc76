import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimHostRuntime } from "./context";
import { HostFs } from "./host-fs";
import { Hypervisor } from "./hypervisor";
import { runCommandLine } from "./shell";
import { parseLine, ShellSyntaxError } from "./shell-parse";

/**
 * The sim host's shell and programs, without SSH: exact outputs and exit statuses, to be
 * compared with what a Debian 12 host prints (virsh 9.0, coreutils 9.1).
 */

const VM_DIR = "/var/lib/vmatrix/vms";
let dir: string;
let host: SimHostRuntime;
let probes = 0;

async function sh(line: string, stdin = ""): Promise<{ status: number; out: string; err: string }> {
  const collect = () => {
    const chunks: Buffer[] = [];
    const stream = new Writable({
      write(c: Buffer, _e, done) {
        chunks.push(c);
        done();
      },
    });
    return { stream, text: () => Buffer.concat(chunks).toString() };
  };
  const out = collect();
  const err = collect();
  const input = new PassThrough();
  input.end(stdin);
  const status = await runCommandLine(
    line,
    { stdin: input, stdout: out.stream, stderr: err.stream },
    host,
    new AbortController().signal,
  );
  return { status, out: out.text(), err: err.text() };
}

const XML = (name: string, uuid: string) =>
  `<domain type='qemu'>\n  <name>${name}</name>\n  <uuid>${uuid}</uuid>\n  <memory unit='MiB'>16</memory>\n  <vcpu>1</vcpu>\n  <devices><disk type='file'><source file='${VM_DIR}/${name}.img'/></disk></devices>\n</domain>\n`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sim-shell-"));
  const fs = await HostFs.open(join(dir, "root"), ["/home/vmatrix", VM_DIR]);
  const hypervisor = await Hypervisor.open(join(dir, "hv.json"), fs, {
    loadOf: () => 0.5,
    saveImageFraction: 0.01,
    shutdownDelayMs: 50,
  });
  host = {
    name: "t",
    bridges: ["virbr0", "vmxs1", "vmxs7"],
    address: "127.0.0.1",
    port: 22,
    user: "vmatrix",
    home: "/home/vmatrix",
    vmDir: VM_DIR,
    lat: 0,
    lon: 0,
    cpus: 4,
    memoryKiB: 8 * 1024 * 1024,
    fs,
    hypervisor,
    locks: new Set(),
    // 10.0.0.1 answers 11.5, 13.5, 11.5, … ms (one call per probe); nothing else answers.
    rttMs: async (a) => (a === "10.0.0.1" ? (probes++ % 2 ? 13.5 : 11.5) : null),
  };
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("shell grammar", () => {
  it("splits words and quotes like sh", () => {
    expect(parseLine(`'a b' "c \\"d\\"" e\\ f 'it'\\''s'`)).toEqual([
      { pipeline: [{ words: ["a b", 'c "d"', "e f", "it's"], redirects: [] }], after: ";" },
    ]);
    expect(parseLine("a | b >> 'f x' && c; d || e")).toEqual([
      {
        pipeline: [
          { words: ["a"], redirects: [] },
          { words: ["b"], redirects: [{ op: ">>", target: "f x" }] },
        ],
        after: ";",
      },
      { pipeline: [{ words: ["c"], redirects: [] }], after: "&&" },
      { pipeline: [{ words: ["d"], redirects: [] }], after: ";" },
      { pipeline: [{ words: ["e"], redirects: [] }], after: "||" },
    ]);
  });
  it.each(["echo $(id)", "echo `id`", "a &", "(a)", "a |", "| a", "'open", "ls *"])(
    "refuses %j instead of guessing",
    (line) => {
      expect(() => parseLine(line)).toThrow(ShellSyntaxError);
    },
  );
});

describe("sim host programs", () => {
  it("answers unknown programs like bash", async () => {
    expect(await sh("frobnicate --now")).toEqual({
      status: 127,
      out: "",
      err: "bash: frobnicate: command not found\n",
    });
    expect((await sh("echo $(id)")).status).toBe(2);
  });

  it("prints virsh's formats", async () => {
    await sh(`truncate -s 1024 -- ${VM_DIR}/alpha.img`);
    await host.fs.writeWhole(
      `${VM_DIR}/alpha.xml`,
      [Buffer.from(XML("alpha", "11111111-2222-4333-8444-555555555555"))],
      XML("alpha", "11111111-2222-4333-8444-555555555555").length,
    );
    expect(await sh(`virsh define --file ${VM_DIR}/alpha.xml`)).toEqual({
      status: 0,
      out: `Domain 'alpha' defined from ${VM_DIR}/alpha.xml\n\n`,
      err: "",
    });
    expect((await sh("virsh list --all")).out).toBe(
      " Id   Name    State\n------------------------\n -    alpha   shut off\n\n",
    );
    expect((await sh("virsh domstate --domain alpha --reason")).out).toBe("shut off (unknown)\n\n");
    expect((await sh("virsh start alpha")).out).toBe("Domain 'alpha' started\n\n");
    expect((await sh("virsh list --all")).out).toBe(
      " Id   Name    State\n-----------------------\n 1    alpha   running\n\n",
    );
    expect(await sh("virsh start --domain alpha")).toEqual({
      status: 1,
      out: "\n",
      err: "error: Domain is already active\n",
    });
    const stats = (await sh("virsh domstats --cpu-total --balloon --domain alpha")).out;
    expect(stats).toMatch(
      /^Domain: 'alpha'\n {2}cpu\.time=\d+\n {2}cpu\.user=\d+\n {2}cpu\.system=\d+\n {2}cpu\.cache\.monitor\.count=0\n {2}cpu\.haltpoll\.success\.time=0\n {2}cpu\.haltpoll\.fail\.time=0\n {2}balloon\.current=16384\n {2}balloon\.maximum=16384\n {2}balloon\.last-update=0\n {2}balloon\.rss=\d+\n\n$/,
    );
    expect((await sh("virsh resume alpha")).err).toBe(
      "error: Failed to resume domain 'alpha'\nerror: Requested operation is not valid: domain is already running\n",
    );
    expect((await sh(`virsh save --domain alpha --file ${VM_DIR}/alpha.state`)).out).toBe(
      `\nDomain 'alpha' saved to ${VM_DIR}/alpha.state\n\n`,
    );
    expect((await sh("virsh domstate --domain alpha --reason")).out).toBe("shut off (saved)\n\n");
    expect((await sh(`virsh restore --file ${VM_DIR}/alpha.state`)).out).toBe(
      `Domain restored from ${VM_DIR}/alpha.state\n\n`,
    );
    expect((await sh("virsh domstate alpha --reason")).out).toBe("running (restored)\n\n");
    expect((await sh("virsh destroy alpha")).out).toBe("Domain 'alpha' destroyed\n\n");
    expect(await sh("virsh destroy alpha")).toEqual({
      status: 1,
      out: "\n",
      err: "error: Failed to destroy domain 'alpha'\nerror: Requested operation is not valid: domain is not running\n",
    });
    expect((await sh("virsh undefine alpha")).out).toBe("Domain 'alpha' has been undefined\n\n");
    expect(await sh("virsh domstate nope")).toEqual({
      status: 1,
      out: "\n",
      err: "error: failed to get domain 'nope'\n",
    });
    expect((await sh("virsh start --force x")).err).toBe("error: command 'start' doesn't support option --force\n");
    expect((await sh("virsh frob")).err).toBe("error: unknown command: 'frob'\n");
    expect((await sh("virsh start")).err).toBe("error: command 'start' requires <domain> option\n");
  });

  it("makes a restored state file run where it lands, and refuses a truncated one", async () => {
    await host.fs.writeWhole(
      `${VM_DIR}/beta.xml`,
      [Buffer.from(XML("beta", "21111111-2222-4333-8444-555555555555"))],
      XML("beta", "21111111-2222-4333-8444-555555555555").length,
    );
    await sh(`truncate -s 10 -- ${VM_DIR}/beta.img`);
    await sh(`virsh define ${VM_DIR}/beta.xml`);
    await sh("virsh start beta");
    await sh("virsh suspend beta");
    await sh(`virsh save beta ${VM_DIR}/beta.state`);
    await sh("virsh undefine beta");
    expect((await sh("virsh list --all")).out).not.toContain("beta");
    // Saved while paused: restores paused, as a transient domain.
    await sh(`virsh restore ${VM_DIR}/beta.state`);
    expect((await sh("virsh domstate --reason beta")).out).toBe("paused (user)\n\n");
    await sh("virsh destroy beta");
    expect((await sh("virsh list --all")).out).not.toContain("beta");
    const size = (await host.fs.stat(`${VM_DIR}/beta.state`)).size;
    await sh(`truncate -s ${size - 1} -- ${VM_DIR}/beta.state`);
    const bad = await sh(`virsh restore ${VM_DIR}/beta.state`);
    expect(bad.status).toBe(1);
    expect(bad.err).toMatch(/^error: Failed to restore domain from .*\nerror: .*load of migration failed/);
    await sh(`truncate -s 120 -- ${VM_DIR}/beta.state`);
    expect((await sh(`virsh restore ${VM_DIR}/beta.state`)).err).toBe(
      `error: Failed to restore domain from ${VM_DIR}/beta.state\nerror: operation failed: failed to read domain XML\n`,
    );
  });

  it("answers coreutils like GNU", async () => {
    await sh(`truncate -s 5 -- ${VM_DIR}/f`);
    expect(await sh(`stat -c %s -- ${VM_DIR}/f`)).toEqual({ status: 0, out: "5\n", err: "" });
    expect(await sh(`stat -c %s -- ${VM_DIR}/missing`)).toEqual({
      status: 1,
      out: "",
      err: `stat: cannot statx '${VM_DIR}/missing': No such file or directory\n`,
    });
    expect((await sh(`sha256sum -- ${VM_DIR}/f`)).out).toBe(
      `8855508aade16ec573d21e6a485dfd0a7624085c1a14b5ecdd6485de0c6839a4  ${VM_DIR}/f\n`,
    );
    expect((await sh(`df -B1 --output=avail,size -- ${VM_DIR}`)).out).toMatch(/^ *Avail +1B-blocks\n *\d+ +\d+\n$/);
    expect(await sh(`rm -f -- ${VM_DIR}/missing`)).toEqual({ status: 0, out: "", err: "" });
    expect(await sh(`mv -f -- ${VM_DIR}/missing ${VM_DIR}/x`)).toEqual({
      status: 1,
      out: "",
      err: `mv: cannot stat '${VM_DIR}/missing': No such file or directory\n`,
    });
    expect((await sh("mkdir -p -- /etc/x")).err).toBe("mkdir: cannot create directory '/etc/x': Permission denied\n");
    expect((await sh("rm -q x")).err).toBe("rm: invalid option -- 'q'\nTry 'rm --help' for more information.\n");
  });

  it("pipes, appends and locks", async () => {
    expect((await sh(`cat >> ${VM_DIR}/log`, "hello ")).status).toBe(0);
    await sh(`tail -c +3 -- ${VM_DIR}/log | cat >> ${VM_DIR}/log2`);
    expect((await host.fs.stat(`${VM_DIR}/log2`)).size).toBe(4);
    host.locks.add(`${VM_DIR}/lock`);
    expect((await sh(`flock -n -E 75 ${VM_DIR}/lock cat`)).status).toBe(75);
    host.locks.delete(`${VM_DIR}/lock`);
    expect(
      await sh(`flock -n -E 75 ${VM_DIR}/lock -c 'stat -c %s -- ${VM_DIR}/log && stat -c %s -- /nope'`),
    ).toMatchObject({ status: 1, out: "6\n" });
  });

  it("lists several sizes with their names, and says which are missing", async () => {
    await sh(`truncate -s 7 -- '${VM_DIR}/s p'`);
    expect(await sh(`stat -c '%s %n' -- '${VM_DIR}/s p' ${VM_DIR}/missing ${VM_DIR}/f`)).toEqual({
      status: 1,
      out: `7 ${VM_DIR}/s p\n5 ${VM_DIR}/f\n`,
      err: `stat: cannot statx '${VM_DIR}/missing': No such file or directory\n`,
    });
    expect(await sh(`stat -c '%s%%' -- ${VM_DIR}/f`)).toMatchObject({ status: 0, out: "5%\n" });
    expect((await sh(`stat -c %Y -- ${VM_DIR}/f`)).status).toBe(1);
  });

  it("splits one stream into files with head -c, leaving the rest of it to the next command", async () => {
    const line = `head -c 3 >> ${VM_DIR}/h1 && head -c 0 >> ${VM_DIR}/h2 && head -c 4 >> ${VM_DIR}/h3 && cat >> ${VM_DIR}/h4 && stat -c %s -- ${VM_DIR}/h1 ${VM_DIR}/h2 ${VM_DIR}/h3 ${VM_DIR}/h4`;
    expect(await sh(line, "0123456789")).toEqual({ status: 0, out: "3\n0\n4\n3\n", err: "" });
    expect(await readFile(host.fs.real(`${VM_DIR}/h3`), "utf8")).toBe("3456");
    // At the end of the stream head takes what there is, like GNU's.
    expect(await sh("head -c 10", "abc")).toEqual({ status: 0, out: "abc", err: "" });
    expect(await sh("head -c 2x")).toEqual({ status: 1, out: "", err: "head: invalid number of bytes: '2x'\n" });
    expect((await sh("head -c 1K")).err).toMatch(/supports only/);
    expect(await sh(`tail -c +3 -- ${VM_DIR}/h3 | cat -- - ${VM_DIR}/h1`)).toEqual({
      status: 0,
      out: "56012",
      err: "",
    });
  });

  it("fdatasyncs a file with sync -d, and wants one", async () => {
    await sh(`truncate -s 3 -- ${VM_DIR}/synced`);
    expect(await sh(`sync -d -- ${VM_DIR}/synced`)).toEqual({ status: 0, out: "", err: "" });
    expect(await sh("sync --data")).toEqual({ status: 1, out: "", err: "sync: --data needs at least one argument\n" });
    expect(await sh(`sync --data -- ${VM_DIR}/missing`)).toEqual({
      status: 1,
      out: "",
      err: `sync: error opening '${VM_DIR}/missing': No such file or directory\n`,
    });
  });

  it("fails a write at the disk quota with ENOSPC", async () => {
    host.fs.quotaBytes = host.fs.usedBytes + 4;
    try {
      const r = await sh(`cat >> ${VM_DIR}/full`, "0123456789");
      expect(r).toEqual({ status: 1, out: "", err: "cat: write error: No space left on device\n" });
      expect(await sh(`head -c 8 >> ${VM_DIR}/full2`, "0123456789")).toEqual({
        status: 1,
        out: "",
        err: "head: write error: No space left on device\n",
      });
      expect((await host.fs.stat(`${VM_DIR}/full`)).size).toBe(4);
      expect((await sh(`df -B1 --output=avail,size -- ${VM_DIR}`)).out).toMatch(/\n +0 +\d+\n$/);
    } finally {
      host.fs.quotaBytes = undefined;
    }
  });

  it("pings from the lab's RTT source, one value per probe", async () => {
    const r = await sh("ping -n -q -c 2 -i 0.2 -W 1 -- 10.0.0.1");
    expect(r.status).toBe(0);
    expect(r.out).toMatch(
      /^PING 10\.0\.0\.1 \(10\.0\.0\.1\) 56\(84\) bytes of data\.\n\n--- 10\.0\.0\.1 ping statistics ---\n2 packets transmitted, 2 received, 0% packet loss, time 200ms\nrtt min\/avg\/max\/mdev = 11\.500\/12\.500\/13\.500\/1\.000 ms\n$/,
    );
    const lost = await sh("ping -n -q -c 1 -W 0 -- 10.0.0.2");
    expect(lost.status).toBe(1);
    expect(lost.out).toContain("1 packets transmitted, 0 received, 100% packet loss");
  });
});
