import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";

/** The session-signing secret: from the environment, else made once and kept in the data folder (mode 600). */
export async function authSecret(dataDir: string, fromEnv: string | undefined): Promise<string> {
  if (fromEnv) return fromEnv;
  const file = path.join(dataDir, "auth-secret");
  if (existsSync(file)) {
    // A copy or an old umask may have opened it to others: only its owner reads it.
    if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
    return (await readFile(file, "utf8")).trim();
  }
  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  await writeFile(file, secret + "\n", { mode: 0o600 });
  return secret;
}
