import { z } from "zod";

/**
 * Inputs of image registration, shared by the API, the VMs page's form and the CLI (so this
 * module runs in the browser too: no Node imports). An image's name follows a VM name's
 * rules because it names a file on a host: `<name>.image` in the host's VM directory.
 */
export const IMAGE_NAME_RE = /^[a-z][a-z0-9-]{0,62}$/;

export const imageNameSchema = z
  .string()
  .trim()
  .min(1, "is required")
  .regex(
    IMAGE_NAME_RE,
    "must start with a lowercase letter and use only a-z, 0-9 and '-' (at most 63): the file is <name>.image",
  );

/** What a VM made from the image gets (the plan's own limits: server/jobs/plan.ts). */
export const imageMemorySchema = z.coerce
  .number("must be a number of MiB")
  .int("must be a whole number of MiB")
  .min(16, "must be at least 16 MiB")
  .max(1_048_576, "must be at most 1048576 MiB (1 TiB)");
export const imageVcpusSchema = z.coerce
  .number("must be a number")
  .int("must be a whole number")
  .min(1, "must be 1 to 64")
  .max(64, "must be 1 to 64");

export const registerImageInput = z.object({
  serviceId: z.string().trim().min(1, "is required").max(64),
  name: imageNameSchema,
  /** The host whose VM directory holds `<name>.image`. */
  hostId: z.string().trim().min(1, "is required").max(64),
  memoryMiB: imageMemorySchema,
  vcpus: imageVcpusSchema,
});
export type RegisterImageInput = z.infer<typeof registerImageInput>;

/** The first 12 hex digits of a checksum, as lists show it. */
export const shortSha256 = (sha256: string | null | undefined) => (sha256 ? sha256.slice(0, 12) : null);
