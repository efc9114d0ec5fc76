import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import ssh2, { type ParsedKey } from "ssh2";

/**
 * The keys a sim host's sshd accepts: the user's `~/.ssh/authorized_keys` and every file of
 * the lab's site-wide folder (OpenSSH's `AuthorizedKeysFile` with a second, shared path, as
 * configuration management keeps one list for a fleet). Each file is parsed once and read
 * again only when it changes: a lab of 10,000 hosts authorizes 10,001 keys on every host,
 * and parsing them per login (or writing them into 10,000 homes) does not scale.
 */
export async function findAuthorizedKey(
  files: { userFile: string; siteDir?: string },
  offered: { algo: string; data: Buffer },
): Promise<ParsedKey | null> {
  const paths = [files.userFile, ...(files.siteDir ? await siteFiles(files.siteDir) : [])];
  const wanted = keyId(offered.algo, offered.data);
  for (const path of paths) {
    const found = (await keysOf(path)).get(wanted);
    if (found) return found;
  }
  return null;
}

interface Parsed {
  mtimeMs: number;
  size: number;
  ino: number;
  keys: Map<string, ParsedKey>;
}

const cache = new Map<string, Parsed>();

async function keysOf(path: string): Promise<Map<string, ParsedKey>> {
  let st;
  try {
    st = await stat(path);
  } catch {
    cache.delete(path);
    return new Map();
  }
  const hit = cache.get(path);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size && hit.ino === st.ino) return hit.keys;
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return new Map();
  }
  const keys = new Map<string, ParsedKey>();
  for (const line of text.split("\n")) {
    if (!line.trim() || line.startsWith("#")) continue;
    const key = ssh2.utils.parseKey(line);
    if (key instanceof Error) continue;
    keys.set(keyId(key.type, key.getPublicSSH()), key);
  }
  cache.set(path, { mtimeMs: st.mtimeMs, size: st.size, ino: st.ino, keys });
  return keys;
}

async function siteFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => !f.startsWith(".")).map((f) => join(dir, f));
  } catch {
    return [];
  }
}

function keyId(algo: string, data: Buffer): string {
  return `${algo} ${data.toString("base64")}`;
}
