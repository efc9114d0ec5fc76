import { createHash } from "node:crypto";

/**
 * The demo world's golden images: one per seeded service (`<slug>-v1`), a file
 * `<name>.image` of GOLDEN_IMAGE_BYTES in the VM directory of a Loading Chambers host (the
 * first Nest city's). Their content is deterministic, so the seed records size and SHA-256
 * without the file, and the sim world (scripts/lib/sim-lab.ts `materializeSeededImages`)
 * writes exactly those bytes onto the host. Small, because the sim lab keeps and copies
 * real bytes; real images are gigabytes.
 */
export const GOLDEN_IMAGE_BYTES = 4 * 1024 * 1024;

/** The seeded image of a service. */
export const seededImageName = (serviceSlug: string) => `${serviceSlug}-v1`;

/** The bytes of a seeded golden image: SHA-256 blocks of the name and a counter, the same everywhere. */
export function goldenImage(name: string, size = GOLDEN_IMAGE_BYTES): Buffer {
  const out = Buffer.alloc(size);
  for (let at = 0, i = 0; at < size; at += 32, i++)
    createHash("sha256").update(`vmatrix golden image ${name} ${i}`).digest().copy(out, at);
  return out;
}

/** Size and SHA-256 (hex) of a seeded golden image, as a host would report them. */
export function goldenImageFacts(name: string): { sizeBytes: number; sha256: string } {
  const bytes = goldenImage(name);
  return { sizeBytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
}
