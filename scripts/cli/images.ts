import { formatBytes } from "../../server/format";
import { imageMemorySchema, imageNameSchema, imageVcpusSchema, shortSha256 } from "../../server/registry/images.schema";
import { type Api, type CliCommand, named, type Options, out, stringOpt, UsageError } from "./command";

/** A required flag's value, or a usage error naming it with an example. */
function required(opts: Options, flag: string, example: string): string {
  const v = stringOpt(opts, flag)?.trim();
  if (!v) throw new UsageError(`--${flag}: required, e.g. --${flag} ${example}`);
  return v;
}

/** A flag's value through the API's own rule for it, refused in the flag's name. */
function valid<T>(
  flag: string,
  schema: {
    safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { message: string }[] } };
  },
  value: string,
): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new UsageError(`--${flag}: ${r.error.issues[0]?.message ?? "is not valid"}`);
  return r.data;
}

async function serviceBySlug(api: Api, slug: string) {
  return named(api.lookup.service({ slug }), "--service");
}

/** One image as scripts read it. */
function row(i: Awaited<ReturnType<Api["vms"]["images"]>>[number]) {
  return {
    name: i.name,
    service: i.service.slug,
    host: i.host?.name ?? null,
    hostingNetwork: i.host?.hostingNetwork.slug ?? null,
    sizeBytes: i.diskBytes,
    sha256: i.sha256,
    memoryMiB: i.memoryMiB,
    vcpus: i.vcpus,
    registeredBy: i.registeredBy?.email ?? null,
    createdAt: i.createdAt,
  };
}

/**
 * `images …`: golden images, through the same API as the VMs page (`vms.images`,
 * `vms.registerImage`): list them, and register one whose file `<name>.image` is already in a
 * host's VM directory (an oracle reads its size and SHA-256 there).
 */
export const imagesCommand: CliCommand = {
  noun: "images",
  aliases: ["image"],
  usage: `  images list [--json] [--service SLUG]
  images register --service SLUG --name NAME --host HOST --memory MIB --vcpus N [--json]
            (the file NAME.image must be in HOST's VM directory)`,
  options: {
    service: { type: "string" },
    name: { type: "string" },
    host: { type: "string" },
    memory: { type: "string" },
    vcpus: { type: "string" },
  },
  async run({ api, verb, opts }) {
    switch (verb) {
      case "list": {
        const slug = stringOpt(opts, "service");
        if (slug !== undefined) await serviceBySlug(api, slug);
        const rows = (await api.vms.images()).map(row).filter((r) => slug === undefined || r.service === slug);
        if (opts.json) return out(rows);
        if (rows.length === 0)
          return console.log("No images yet: register one with images register (its file must be on a host first).");
        for (const r of rows)
          console.log(
            `${r.name.padEnd(20)} ${r.service.padEnd(10)} ${(r.host ?? "—").padEnd(22)} ${formatBytes(r.sizeBytes).padStart(10)}  ${shortSha256(r.sha256) ?? "—"}  ${r.memoryMiB} MiB, ${r.vcpus} vCPU`,
          );
        return;
      }
      case "register": {
        const service = await serviceBySlug(api, required(opts, "service", "map"));
        const name = valid("name", imageNameSchema, required(opts, "name", "map-v2"));
        const hostName = required(opts, "host", "ashburn-load-1");
        const memoryMiB = valid("memory", imageMemorySchema, required(opts, "memory", "128"));
        const vcpus = valid("vcpus", imageVcpusSchema, required(opts, "vcpus", "1"));
        const host = await named(api.lookup.host({ name: hostName }), "--host");
        const image = await api.vms.registerImage({ serviceId: service.id, name, hostId: host.id, memoryMiB, vcpus });
        const registered = {
          name: image.name,
          service: service.slug,
          host: host.name,
          sizeBytes: image.diskBytes,
          sha256: image.sha256,
          memoryMiB: image.memoryMiB,
          vcpus: image.vcpus,
        };
        if (opts.json) return out(registered);
        return console.log(
          `Registered ${registered.name} (${registered.service}) on ${registered.host}: ${formatBytes(registered.sizeBytes)}, sha256 ${registered.sha256}`,
        );
      }
      default:
        throw new UsageError(`unknown command images ${verb ?? ""}`.trim());
    }
  },
};
