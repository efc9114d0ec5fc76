import { chmod, chown, mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import path from "node:path";

/** Small file helpers that make `up` idempotent: they only touch what differs. */

export async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

export async function readIfExists(p: string): Promise<string | undefined> {
  try {
    return await readFile(p, "utf8");
  } catch {
    return undefined;
  }
}

export interface Owner {
  uid: number;
  gid: number;
}

/** Write a file atomically (temp + rename) when its content differs; says whether it wrote. */
export async function writeIfChanged(p: string, content: string, mode: number, owner?: Owner): Promise<boolean> {
  const current = await readIfExists(p);
  if (current === content) {
    await settle(p, mode, owner);
    return false;
  }
  const tmp = path.join(path.dirname(p), `.${path.basename(p)}.tmp-${process.pid}`);
  await writeFile(tmp, content, { mode });
  await settle(tmp, mode, owner);
  await rename(tmp, p);
  return true;
}

/** A directory with exactly this mode and owner (mkdir -p for the missing parents). */
export async function ensureDir(p: string, mode: number, owner?: Owner): Promise<void> {
  await mkdir(p, { recursive: true, mode });
  await settle(p, mode, owner);
}

async function settle(p: string, mode: number, owner?: Owner): Promise<void> {
  await chmod(p, mode);
  if (owner) await chown(p, owner.uid, owner.gid);
}
