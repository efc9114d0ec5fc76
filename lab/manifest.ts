import { readFile } from "node:fs/promises";
import { z } from "zod";

/**
 * What a lab (sim or libvirt) tells the rest of the product about the hosts it started:
 * written by the lab's `up` command as JSON, read by the seed/registry and by the
 * driver contract tests. The same shape for both labs: the driver cannot tell them apart.
 */
export const labHostSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/),
  role: z.enum(["NEST", "LOADING", "PRODUCTION"]),
  city: z.string(),
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  sshHost: z.string(),
  sshPort: z.number().int().min(1).max(65535),
  sshUser: z.string(),
  /** Path of the private key the oracle uses for this host (never the key itself). */
  privateKeyPath: z.string(),
  /** Host key fingerprint as OpenSSH prints it: "SHA256:" + unpadded base64. */
  hostKeyFingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/),
  /** Directory on the host holding VM files (disk, saved state, domain XML). */
  vmDir: z.string(),
});

export const labManifestSchema = z.object({
  lab: z.enum(["sim", "libvirt"]),
  createdAt: z.string(),
  hosts: z.array(labHostSchema).min(1),
  /** Lab-specific description of the test guest image (see each lab's README). */
  guest: z.record(z.string(), z.unknown()).default({}),
});

export type LabHost = z.infer<typeof labHostSchema>;
export type LabManifest = z.infer<typeof labManifestSchema>;

export async function readLabManifest(path: string): Promise<LabManifest> {
  const raw: unknown = JSON.parse(await readFile(path, "utf8"));
  return labManifestSchema.parse(raw);
}
