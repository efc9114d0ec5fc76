import { z } from "zod";

/**
 * Inputs of the host registry, shared by the API, the UI form and the CLI (so this module
 * runs in the browser too: no Node imports).
 */
export const hostNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, "must start with a letter and use only a-z, 0-9 and '-' (at most 63)");
const label = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
export const sshHostSchema = z
  .string()
  .trim()
  .min(1, "is required")
  .refine(
    (v) =>
      z.ipv4().safeParse(v).success ||
      z.ipv6().safeParse(v).success ||
      (v.length <= 253 && new RegExp(`^${label}(?:\\.${label})*$`).test(v)),
    "must be an IP address or a host name",
  );
export const sshPortSchema = z.coerce
  .number()
  .int("must be a whole number")
  .min(1, "must be 1 to 65535")
  .max(65535, "must be 1 to 65535");
export const sshUserSchema = z
  .string()
  .regex(/^[a-z_][a-z0-9_.-]{0,31}$/, "must be a login name (lowercase letters, digits, '_', '.', '-')");
export const keyRefSchema = z
  .string()
  .trim()
  .regex(
    /^(file:\/[A-Za-z0-9._/@+-]+|env:[A-Z_][A-Z0-9_]*)$/,
    "must be file:/absolute/path/to/key or env:VARIABLE_NAME (the key itself is never stored)",
  );
export const vmDirSchema = z
  .string()
  .regex(/^\/[A-Za-z0-9._/-]*$/, "must be an absolute path of letters, digits, '.', '_', '-' and '/'")
  .refine((v) => !v.split("/").some((s) => s === ".." || s === "."), "must not contain '.' or '..' segments")
  .refine((v) => v.replace(/\/+$/, "") !== "", "must not be the root directory");
export const fingerprintSchema = z
  .string()
  .trim()
  .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, "must look like SHA256: followed by 43 base64 characters");
export const roleSchema = z.enum(["NEST", "LOADING", "PRODUCTION"], "must be NEST, LOADING or PRODUCTION");

export const previewHostKeyInput = z.object({ sshHost: sshHostSchema, sshPort: sshPortSchema });

export const registerHostInput = z.object({
  name: hostNameSchema,
  hostingNetworkId: z.string().min(1, "is required"),
  role: roleSchema,
  sshHost: sshHostSchema,
  sshPort: sshPortSchema,
  sshUser: sshUserSchema,
  sshKeyRef: keyRefSchema,
  vmDir: vmDirSchema.default("/var/lib/vmatrix/vms"),
  /** The fingerprint the operator saw and confirmed (from previewHostKey). */
  hostKeyFingerprint: fingerprintSchema,
});
export type RegisterHostInput = z.infer<typeof registerHostInput>;

export const confirmHostKeyInput = z.object({ hostId: z.string().min(1), hostKeyFingerprint: fingerprintSchema });
