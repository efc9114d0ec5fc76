import { open, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { ensureDir, exists } from "./fsutil";

/**
 * One test file at a time uses the libvirt lab. Its hosts are shared by every suite (the
 * driver contract, the operations' crash test, the lifecycle test): run side by side on
 * two cores they slow each other's TCG guests past their timeouts, and the contract's
 * full-disk case would fill a host another suite is copying to. Vitest runs test files in
 * parallel processes, so each libvirt suite holds this lease from its first test to its
 * last. The lease file holds the owner's pid; a lease whose owner died is taken over.
 */
export async function holdLibvirtLab(
  labDir: string,
  who: string,
  log: (line: string) => void,
  waitMs = 20 * 60_000,
): Promise<() => Promise<void>> {
  await ensureDir(labDir, 0o755);
  const file = path.join(labDir, ".tests.lock");
  const until = Date.now() + waitMs;
  let told = false;
  for (;;) {
    try {
      const fh = await open(file, "wx", 0o644);
      await fh.writeFile(`${process.pid} ${who}`);
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const [pid, ...rest] = (await readFile(file, "utf8").catch(() => "")).trim().split(" ");
      const owner = Number(pid);
      if (!Number.isInteger(owner) || owner <= 0 || owner === process.pid || !(await exists(`/proc/${owner}`))) {
        await rm(file, { force: true });
        continue;
      }
      if (Date.now() > until)
        throw new Error(
          `the libvirt lab is still in use by ${rest.join(" ") || "another suite"} (pid ${owner}, ${file})`,
        );
      if (!told) log(`waiting for ${rest.join(" ") || "another suite"} (pid ${owner}) to finish with the libvirt lab`);
      told = true;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    const content = await readFile(file, "utf8").catch(() => "");
    if (content.startsWith(`${process.pid} `)) await rm(file, { force: true });
  };
}
