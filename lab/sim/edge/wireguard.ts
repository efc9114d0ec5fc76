import { createPrivateKey, createPublicKey, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Builtin, Io } from "../context";
import { write } from "../streams";
import type { SimEdgeData } from "./state";

/**
 * WireGuard on a sim edge as Debian 12's wireguard-go and wireguard-tools 1.0 answer it:
 * `wireguard-go IF` makes the device, `wg genkey|pubkey` (real Curve25519 keys), `wg set`
 * (private key from a file, one peer with endpoint, allowed-ips, keepalive; `peer K
 * remove`) and `wg show all public-key|endpoints|allowed-ips|latest-handshakes`, with the
 * tools' words for what they refuse. No packet is carried: the sim has no back end to reach,
 * so the latest handshake stays 0 (never), as on a real edge whose peer never answered.
 */

const KEY_RE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;
/** PKCS#8 DER prefix of a raw X25519 private key. */
const X25519_PKCS8 = Buffer.from("302e020100300506032b656e04220420", "hex");

function clamp(raw: Buffer): Buffer {
  const k = Buffer.from(raw);
  k[0]! &= 248;
  k[31] = (k[31]! & 127) | 64;
  return k;
}

export function publicKeyOf(privateBase64: string): string {
  const key = createPrivateKey({
    key: Buffer.concat([X25519_PKCS8, Buffer.from(privateBase64, "base64")]),
    format: "der",
    type: "pkcs8",
  });
  return (createPublicKey(key).export({ format: "der", type: "spki" }) as Buffer).subarray(-32).toString("base64");
}

async function readAll(io: Io): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of io.stdin) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

const devices = (d: SimEdgeData) => (d.wireguard ??= {});

export const wireguardGo: Builtin = async (argv, io, ctx) => {
  const edge = ctx.host.edge;
  if (!edge) {
    await write(io.stderr, "bash: wireguard-go: command not found\n");
    return 127;
  }
  const name = argv[1];
  if (argv.length !== 2 || !name || name.startsWith("-")) {
    await write(io.stderr, `Usage: ${argv[0]} [-f/--foreground] INTERFACE-NAME\n`);
    return 1;
  }
  if (edge.data.links[name]) {
    await write(
      io.stderr,
      `ERROR: (${name}) ${new Date().toISOString().slice(0, 19).replace("T", " ").replaceAll("-", "/")} Failed to create TUN device: device or resource busy\n`,
    );
    return 1;
  }
  const ifindex = Math.max(1, ...Object.values(edge.data.links).map((l) => l.ifindex)) + 1;
  edge.data.links[name] = { ifindex, addresses: [], up: false, kind: "wireguard" };
  devices(edge.data)[name] = { privateKey: null, listenPort: 40000 + (ifindex % 20000), peers: [] };
  await edge.save();
  return 0;
};

export const wg: Builtin = async (argv, io, ctx) => {
  const edge = ctx.host.edge;
  if (!edge) {
    await write(io.stderr, "bash: wg: command not found\n");
    return 127;
  }
  const a = argv.slice(1);
  if (a[0] === "genkey" && a.length === 1) {
    await write(io.stdout, clamp(randomBytes(32)).toString("base64") + "\n");
    return 0;
  }
  if (a[0] === "pubkey" && a.length === 1) {
    const key = (await readAll(io)).trim();
    if (!KEY_RE.test(key)) {
      await write(io.stderr, "wg: Key is not the correct length or format\n");
      return 1;
    }
    await write(io.stdout, publicKeyOf(key) + "\n");
    return 0;
  }
  const devs = devices(edge.data);
  if (a[0] === "show" && a[1] === "all" && a.length === 3) {
    const lines: string[] = [];
    for (const [name, d] of Object.entries(devs).sort()) {
      if (a[2] === "public-key") lines.push(`${name}\t${d.privateKey ? publicKeyOf(d.privateKey) : "(none)"}`);
      else if (["endpoints", "allowed-ips", "latest-handshakes"].includes(a[2]!)) {
        if (d.peers.length === 0) lines.push(`${name}\t`);
        for (const p of d.peers)
          lines.push(
            `${name}\t${p.publicKey}\t${a[2] === "endpoints" ? (p.endpoint ?? "(none)") : a[2] === "allowed-ips" ? p.allowedIps.join(" ") || "(none)" : "0"}`,
          );
      } else {
        await write(io.stderr, `Invalid argument: ${a[2]}\n`);
        return 1;
      }
    }
    await write(io.stdout, lines.map((l) => l + "\n").join(""));
    return 0;
  }
  if (a[0] === "set" && a.length >= 3) {
    const d = devs[a[1]!];
    if (!d) {
      await write(io.stderr, "Unable to modify interface: Protocol not supported\n");
      return 1;
    }
    // Checked whole before anything changes, as wg parses its arguments before it sends them.
    const next = structuredClone(d);
    let peer: (typeof d.peers)[number] | null = null;
    for (let i = 2; i < a.length; i++) {
      const word = a[i]!;
      const value = a[i + 1];
      if (word === "private-key" && value !== undefined && !peer) {
        let text: string;
        try {
          text = (await readFile(ctx.host.fs.real(value), "utf8")).trim();
        } catch {
          await write(io.stderr, "fopen: No such file or directory\n");
          return 1;
        }
        if (!KEY_RE.test(text)) {
          await write(io.stderr, "Key is not the correct length or format: `" + value + "'\n");
          return 1;
        }
        next.privateKey = text;
        i++;
      } else if (word === "peer" && value !== undefined) {
        if (!KEY_RE.test(value)) {
          await write(io.stderr, "Key is not the correct length or format: `" + value + "'\n");
          return 1;
        }
        if (a[i + 2] === "remove") {
          next.peers = next.peers.filter((p) => p.publicKey !== value);
          peer = null;
          i += 2;
          continue;
        }
        peer = next.peers.find((p) => p.publicKey === value) ?? null;
        if (!peer) next.peers.push((peer = { publicKey: value, endpoint: null, allowedIps: [], keepalive: 0 }));
        i++;
      } else if (peer && word === "endpoint" && value !== undefined && /^[^\s:]+:\d{1,5}$/.test(value)) {
        peer.endpoint = value;
        i++;
      } else if (
        peer &&
        word === "allowed-ips" &&
        value !== undefined &&
        value.split(",").every((c) => /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(c))
      ) {
        peer.allowedIps = value.split(",");
        i++;
      } else if (peer && word === "persistent-keepalive" && value !== undefined && /^\d+$/.test(value)) {
        peer.keepalive = Number(value);
        i++;
      } else {
        await write(io.stderr, `Invalid argument: ${word}\n`);
        return 1;
      }
    }
    devs[a[1]!] = next;
    await edge.save();
    return 0;
  }
  await write(io.stderr, `Invalid subcommand: \`${a[0] ?? ""}'\n`);
  return 1;
};

/** `umask` as the login shell's builtin: an octal mask is accepted (the sim's files have no modes to enforce). */
export const umask: Builtin = async (argv, io) => {
  if (argv.length === 2 && /^[0-7]{1,4}$/.test(argv[1]!)) return 0;
  await write(io.stderr, `bash: umask: ${argv[1] ?? ""}: octal number out of range\n`);
  return 1;
};
