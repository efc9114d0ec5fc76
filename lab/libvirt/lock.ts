import { open, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { ensureDir, exists } from "./fsutil";
import type { LabLayout } from "./layout";

/**
 * One `up` or `down` at a time per lab directory (a test suite may bring the lab up while
 * an operator runs the CLI). A lock file holds the owner's pid; a lock whose owner has
 * died is taken over.
 */
export async function withLabLock<T>(layout: LabLayout, log: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  await ensureDir(layout.dir, 0o755);
  const file = path.join(layout.dir, ".lock");
  const until = Date.now() + 20 * 60_000; // apt-get on a fresh machine takes minutes
  let told = false;
  for (;;) {
    try {
      const fh = await open(file, "wx", 0o644);
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const owner = Number((await readFile(file, "utf8").catch(() => "")).trim());
      if (!Number.isInteger(owner) || owner <= 0 || !(await exists(`/proc/${owner}`))) {
        await rm(file, { force: true });
        continue;
      }
      if (Date.now() > until) throw new Error(`another lab command (pid ${owner}) holds ${file}`);
      if (!told) log(`waiting for another lab command (pid ${owner}) to finish`);
      told = true;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(file, { force: true });
  }
}
