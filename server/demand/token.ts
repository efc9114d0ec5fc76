import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * The demand ingest token for `npm start`: DEMAND_INGEST_TOKEN when set, else one made
 * once and kept in the data folder (`demand-ingest-token`), so a local shipper or curl
 * can read it from there.
 */
export async function demandIngestToken(dataDir: string, fromEnv: string | undefined): Promise<string> {
  if (fromEnv) return fromEnv;
  const file = path.join(dataDir, "demand-ingest-token");
  if (existsSync(file)) return (await readFile(file, "utf8")).trim();
  await mkdir(dataDir, { recursive: true });
  const token = randomBytes(24).toString("base64url");
  await writeFile(file, token + "\n", { mode: 0o600 });
  return token;
}

/** Whether an Authorization header carries the expected bearer token (compared in constant time). */
export function bearerMatches(header: string | null, expected: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (!m) return false;
  // Hashing first gives equal lengths, so the comparison leaks nothing about the length either.
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(m[1]!), digest(expected));
}
