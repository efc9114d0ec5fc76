import { readFile } from "node:fs/promises";
import { Client, type CipherAlgorithm } from "ssh2";
import { hostPublicKey } from "../../../server/hosts/fingerprint";
import type { Builtin, Io, SimContext } from "../context";
import { KILLED } from "../context";
import { isBrokenPipe, pump, write } from "../streams";
import { parseArgs, UsageError } from "./args";

/**
 * OpenSSH's `ssh` client on a sim host, for host-to-host transfers: a real SSH
 * connection (ssh2) to the peer, with OpenSSH's host key checking against known_hosts
 * files, its key-based authentication from identity files, its messages and its exit
 * codes (255 for its own failures, else the remote command's status).
 */

const OPTIONS = new Set([
  "batchmode",
  "stricthostkeychecking",
  "userknownhostsfile",
  "globalknownhostsfile",
  "updatehostkeys",
  "connecttimeout",
  "serveraliveinterval",
  "serveralivecountmax",
  "loglevel",
  "identitiesonly",
]);

/** Cipher names OpenSSH's client knows (`ssh -Q cipher`); ssh2 speaks all of them. */
const CIPHERS = new Set([
  "3des-cbc",
  "aes128-cbc",
  "aes192-cbc",
  "aes256-cbc",
  "aes128-ctr",
  "aes192-ctr",
  "aes256-ctr",
  "aes128-gcm@openssh.com",
  "aes256-gcm@openssh.com",
  "chacha20-poly1305@openssh.com",
]);

const DEFAULT_IDENTITIES = ["~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa"];

const CHANGED_BANNER = [
  "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
  "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @",
  "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
  "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!",
  "Someone could be eavesdropping on you right now (man-in-the-middle attack)!",
  "It is also possible that a host key has just been changed.",
];

export const ssh: Builtin = async (argv, io, ctx) => {
  const err = (text: string) => write(io.stderr, text.replace(/\n/g, "\r\n") + "\r\n");
  let args;
  try {
    args = parseArgs("ssh", argv.slice(1), { flags: ["T"], values: ["o", "i", "p", "l", "c"], stopAtOperand: true });
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    await err(
      e.message.replace(/^ssh: invalid option/, "ssh: illegal option") +
        "\nusage: ssh [-46AaCfGgKkMNnqsTtVvXxYy] destination [command [argument ...]]",
    );
    return 255;
  }
  // -o may repeat: collect every occurrence from argv, in order.
  const config = new Map<string, string>();
  for (let i = 1; i < argv.length && argv[i] !== "--"; i++) {
    if (argv[i] !== "-o") continue;
    const m = /^([A-Za-z]+)[= ](.*)$/.exec(argv[i + 1] ?? "");
    if (!m || !OPTIONS.has(m[1]!.toLowerCase())) {
      await err(`command-line line 0: Bad configuration option: ${(m?.[1] ?? argv[i + 1] ?? "").toLowerCase()}`);
      return 255;
    }
    config.set(m[1]!.toLowerCase(), m[2]!);
    i++;
  }
  // -c: the ciphers to offer, in order (OpenSSH refuses the whole list if one is unknown).
  const cipherSpec = args.options.get("c") as string | undefined;
  const ciphers = cipherSpec?.split(",") as CipherAlgorithm[] | undefined;
  if (ciphers && !ciphers.every((c) => CIPHERS.has(c))) {
    await err(`Unknown cipher type '${cipherSpec}'`);
    return 255;
  }
  const [destination, ...words] = args.operands;
  if (!destination) {
    await err("usage: ssh [-46AaCfGgKkMNnqsTtVvXxYy] destination [command [argument ...]]");
    return 255;
  }
  if (words.length === 0) {
    await err("the sim host does not provide interactive ssh sessions");
    return 255;
  }
  const at = destination.lastIndexOf("@");
  const address = at >= 0 ? destination.slice(at + 1) : destination;
  const user = at >= 0 ? destination.slice(0, at) : ((args.options.get("l") as string | undefined) ?? ctx.host.user);
  const port = Number(args.options.get("p") ?? 22);
  const label = port === 22 ? address : `[${address}]:${port}`;
  const strict = (
    config.get("stricthostkeychecking") ?? (config.get("batchmode") === "yes" ? "yes" : "ask")
  ).toLowerCase();

  const known = await knownKeys(ctx, config, label);
  const identity = await loadIdentity(
    ctx,
    args.options.get("i") as string | undefined,
    config.get("identitiesonly") === "yes",
    err,
  );
  if (!identity) {
    await err(`${user}@${address}: Permission denied (publickey).`);
    return 255;
  }

  const client = new Client();
  let verdict: "ok" | "unknown" | "changed" = "ok";
  let keyType = "";
  let presented = "";
  // Killed: the socket goes away at once, as when the kernel closes a dead process's fds.
  const onAbort = () => client.destroy();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  try {
    const ready = await new Promise<true | string>((resolve) => {
      client.on("ready", () => {
        client.setNoDelay(true);
        resolve(true);
      });
      client.on("error", (e: Error & { code?: string; level?: string }) => {
        if (verdict === "unknown")
          resolve(
            `No ${keyName(keyType)} host key is known for ${label} and you have requested strict checking.\nHost key verification failed.`,
          );
        else if (verdict === "changed") {
          const offending = known.find((k) => k.type === keyType) ?? known[0]!;
          resolve(
            [
              ...CHANGED_BANNER,
              `The fingerprint for the ${keyName(keyType)} key sent by the remote host is`,
              `${presented}.`,
              "Please contact your system administrator.",
              `Add correct host key in ${offending.file} to get rid of this message.`,
              `Offending ${keyName(offending.type)} key in ${offending.file}:${offending.line}`,
              "  remove with:",
              `  ssh-keygen -f "${offending.file}" -R "${label}"`,
              `Host key for ${label} has changed and you have requested strict checking.`,
              "Host key verification failed.",
            ].join("\n"),
          );
        } else if (e.level === "client-authentication") resolve(`${user}@${address}: Permission denied (publickey).`);
        else if (/no matching .*cipher/.test(e.message))
          resolve(`Unable to negotiate with ${address} port ${port}: no matching cipher found.`);
        else if (e.code === "ECONNREFUSED") resolve(`ssh: connect to host ${address} port ${port}: Connection refused`);
        else if (/Timed out/.test(e.message) || e.code === "ETIMEDOUT")
          resolve(`ssh: connect to host ${address} port ${port}: Connection timed out`);
        else resolve(`ssh: connect to host ${address} port ${port}: ${e.message}`);
      });
      client.connect({
        host: address,
        port,
        username: user,
        privateKey: identity,
        readyTimeout: Number(config.get("connecttimeout") ?? 30) * 1000,
        keepaliveInterval: Number(config.get("serveraliveinterval") ?? 0) * 1000,
        keepaliveCountMax: Number(config.get("serveralivecountmax") ?? 3),
        authHandler: ["publickey"],
        ...(ciphers ? { algorithms: { cipher: ciphers } } : {}),
        hostVerifier: (blob: Buffer) => {
          const key = hostPublicKey(blob);
          keyType = key.type;
          presented = key.fingerprint;
          const sameType = known.filter((k) => k.type === key.type);
          if (sameType.some((k) => k.blob.equals(key.blob))) return true;
          verdict = sameType.length > 0 || known.length > 0 ? "changed" : "unknown";
          // accept-new / no take unknown keys; a changed key is refused in every mode.
          if (verdict === "unknown" && (strict === "no" || strict === "accept-new")) {
            verdict = "ok";
            return true;
          }
          return false;
        },
      });
    });
    if (ctx.signal.aborted) return KILLED;
    if (ready !== true) {
      await err(ready);
      return 255;
    }
    return await runRemote(client, words.join(" "), io, ctx);
  } finally {
    ctx.signal.removeEventListener("abort", onAbort);
    client.end();
  }
};

function runRemote(client: Client, command: string, io: Io, ctx: SimContext): Promise<number> {
  return new Promise<number>((resolve) => {
    client.exec(command, (e, channel) => {
      if (e) {
        // stderr may already be closed (BrokenPipe): the exit status still counts.
        void write(io.stderr, `channel 0: open failed: ${e.message}\r\n`)
          .catch(() => {})
          .finally(() => resolve(255));
        return;
      }
      let status = 255;
      channel.on("exit", (code: number | null) => {
        if (typeof code === "number") status = code;
      });
      // stdin → remote until EOF; a remote that stops reading early is not an error here.
      pump(io.stdin, channel, ctx.signal)
        .then(() => channel.end())
        .catch((err: unknown) => {
          if (!isBrokenPipe(err)) channel.destroy();
        });
      // Output errors (a reader that went away) only end the copy; the status still counts.
      const out = pump(channel, io.stdout, ctx.signal).catch(() => undefined);
      const errOut = pump(channel.stderr, io.stderr, ctx.signal).catch(() => undefined);
      channel.on("close", () => {
        void Promise.all([out, errOut]).then(() => resolve(ctx.signal.aborted ? KILLED : status));
      });
    });
  });
}

interface KnownKey {
  type: string;
  blob: Buffer;
  /** Where it was listed, for OpenSSH's "Offending key in FILE:LINE". */
  file: string;
  line: number;
}

/** Keys listed for `label` in the user and global known_hosts files (plain entries). */
async function knownKeys(ctx: SimContext, config: Map<string, string>, label: string): Promise<KnownKey[]> {
  const files = [
    ...(config.get("userknownhostsfile") ?? "~/.ssh/known_hosts ~/.ssh/known_hosts2").split(/\s+/),
    ...(config.get("globalknownhostsfile") ?? "/etc/ssh/ssh_known_hosts").split(/\s+/),
  ].filter((f) => f && f !== "/dev/null" && f.toLowerCase() !== "none");
  const keys: KnownKey[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(ctx.host.fs.real(expandHome(ctx, file)), "utf8");
    } catch {
      continue;
    }
    for (const [i, line] of text.split("\n").entries()) {
      const [patterns, type, b64] = line.trim().split(/\s+/);
      if (
        !patterns ||
        !type ||
        !b64 ||
        patterns.startsWith("#") ||
        patterns.startsWith("@") ||
        patterns.startsWith("|")
      )
        continue;
      if (patterns.split(",").includes(label)) keys.push({ type, blob: Buffer.from(b64, "base64"), file, line: i + 1 });
    }
  }
  return keys;
}

async function loadIdentity(
  ctx: SimContext,
  explicit: string | undefined,
  only: boolean,
  err: (t: string) => Promise<void>,
): Promise<Buffer | null> {
  const candidates = explicit ? (only ? [explicit] : [explicit, ...DEFAULT_IDENTITIES]) : DEFAULT_IDENTITIES;
  for (const file of candidates) {
    try {
      return await readFile(ctx.host.fs.real(expandHome(ctx, file)));
    } catch (e) {
      if (file === explicit)
        await err(
          `Warning: Identity file ${file} not accessible: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "No such file or directory" : "Permission denied"}.`,
        );
    }
  }
  return null;
}

function expandHome(ctx: SimContext, file: string): string {
  return file.startsWith("~/") ? `${ctx.host.home}/${file.slice(2)}` : ctx.host.fs.virtual(file, ctx.cwd);
}

function keyName(type: string): string {
  if (type === "ssh-ed25519") return "ED25519";
  if (type.startsWith("ecdsa")) return "ECDSA";
  return "RSA";
}
