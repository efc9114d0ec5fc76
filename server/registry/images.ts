import type { Db, Tx } from "../db/client";
import type { HostDriver } from "../hosts/driver";
import { FileMissingError } from "../hosts/errors";
import { Refused } from "../refused";
import { hostTarget } from "./hosts";
import type { RegisterImageInput } from "./images.schema";

/**
 * Golden images (docs/operations.md, "Images"): a file `<name>.image` in the VM directory
 * of the host that holds it, recorded with its size and SHA-256 as that host reported them.
 * A CREATE makes a VM's disk from it, copying it first to a target host that lacks it
 * (server/jobs/steps.ts, "create disk"). Registration reads the file on its host, so that
 * part runs in an oracle (`image.inspect`, server/calls/kinds.ts); the web app records the
 * answer with its audit event (`addImage`).
 */

/** The image's file name in a host's VM directory. */
export const imageFile = (name: string) => `${name}.image`;

/** What an oracle reads of an image's file on its host. */
export interface ImageFacts {
  host: string;
  path: string;
  sizeBytes: number;
  sha256: string;
}

async function hostOf(db: Db | Tx, hostId: string) {
  const host = await db.host.findUnique({ where: { id: hostId } });
  if (!host) throw new Refused("NOT_FOUND", `hostId: no host with id ${hostId}.`);
  if (host.retiredAt) throw new Refused("BAD_REQUEST", `hostId: host ${host.name} is retired.`);
  return host;
}

/**
 * Before anything is read on a host: the service and the host exist, the name is free. The
 * same checks run again in the transaction that records the image.
 */
export async function checkImageRequest(db: Db | Tx, input: Pick<RegisterImageInput, "serviceId" | "name" | "hostId">) {
  const service = await db.service.findUnique({ where: { id: input.serviceId }, select: { id: true, slug: true } });
  if (!service) throw new Refused("NOT_FOUND", `serviceId: no service with id ${input.serviceId}.`);
  if (await db.vmImage.findUnique({ where: { name: input.name }, select: { id: true } }))
    throw new Refused("CONFLICT", `name: an image named ${input.name} already exists.`);
  const host = await hostOf(db, input.hostId);
  return { service, host };
}

/**
 * In the oracle: the size and SHA-256 of `<name>.image` on the host, over its pinned SSH
 * connection. A missing or empty file is refused (400, naming `name`), in words saying where
 * the file was looked for.
 */
export async function inspectImage(
  db: Db,
  driver: HostDriver,
  input: { hostId: string; name: string },
): Promise<ImageFacts> {
  const host = await hostOf(db, input.hostId);
  const target = hostTarget(host);
  const path = `${target.vmDir}/${imageFile(input.name)}`;
  const missing = () =>
    new Refused(
      "BAD_REQUEST",
      `name: there is no file ${path} on host ${host.name}; put the golden image there first (docs/operations.md, "Images").`,
    );
  const sizeBytes = await driver.fileSize(target, path);
  if (sizeBytes === null) throw missing();
  if (sizeBytes === 0) throw new Refused("BAD_REQUEST", `name: ${path} on host ${host.name} is empty.`);
  try {
    return { host: host.name, path, sizeBytes, sha256: await driver.sha256(target, path) };
  } catch (err) {
    if (err instanceof FileMissingError) throw missing();
    throw err;
  }
}

/** Records an image an oracle inspected (in the caller's transaction, beside its audit event). */
export async function addImage(
  tx: Tx,
  input: RegisterImageInput,
  facts: Pick<ImageFacts, "sizeBytes" | "sha256">,
  registeredById: string | null,
) {
  await checkImageRequest(tx, input);
  return tx.vmImage.create({
    data: {
      name: input.name,
      serviceId: input.serviceId,
      hostId: input.hostId,
      diskBytes: BigInt(facts.sizeBytes),
      sha256: facts.sha256,
      memoryMiB: input.memoryMiB,
      vcpus: input.vcpus,
      registeredById,
    },
  });
}

/** Every image, by name, with its service and the host holding its file. */
export function listImages(db: Db) {
  return db.vmImage.findMany({
    orderBy: { name: "asc" },
    select: {
      id: true,
      name: true,
      serviceId: true,
      diskBytes: true,
      sha256: true,
      memoryMiB: true,
      vcpus: true,
      createdAt: true,
      hostId: true,
      service: { select: { slug: true, name: true } },
      host: { select: { name: true, hostingNetwork: { select: { slug: true, city: true } } } },
      registeredBy: { select: { email: true } },
    },
  });
}
