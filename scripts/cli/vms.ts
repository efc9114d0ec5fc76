import { type Api, type CliCommand, named, type Options, out, stringOpt, UsageError } from "./command";
import { formatBytes } from "../../server/format";
import { operationJson, waitForOperation } from "./wait";

async function vmId(api: Api, name: string | undefined, verb: string) {
  if (!name) throw new UsageError(`name the VM: e.g. vms ${verb} map-001`);
  return (await named(api.lookup.vm({ name }))).id;
}

async function hostId(api: Api, opts: Options) {
  const name = stringOpt(opts, "host");
  if (!name) return undefined;
  return (await named(api.lookup.host({ name }), "--host")).id;
}

async function hostingNetworkId(api: Api, opts: Options) {
  const slug = stringOpt(opts, "hosting-network");
  if (!slug) return undefined;
  return (await named(api.lookup.hostingNetwork({ slug }), "--hosting-network")).id;
}

async function serviceId(api: Api, opts: Options) {
  const slug = stringOpt(opts, "service");
  if (!slug) throw new UsageError("--service: name the service, e.g. --service map");
  return (await named(api.lookup.service({ slug }), "--service")).id;
}

/** Prints the requested operation; with --wait follows it and fails (exit 1) unless it succeeded. */
async function finish(api: Api, opts: Options, op: { id: string }) {
  if (!opts.wait) return out({ operationId: op.id, state: "QUEUED" });
  const done = await waitForOperation(api, op.id);
  out(operationJson(done));
  if (done.state !== "SUCCEEDED")
    throw new Error(
      `${done.kind.toLowerCase()} ${done.vm.name} ${done.state.toLowerCase().replace("_", " ")}: ${done.error ?? "no reason recorded"}`,
    );
}

/**
 * The Oracle's suggested moves for a service (vms.relocationProposals), best first: each one is
 * `vms relocate VM --hosting-network SLUG`, printed so it can be pasted.
 */
async function proposals(api: Api, slug: string | undefined, opts: Options) {
  if (!slug) throw new UsageError("name the service: e.g. vms proposals map");
  const service = await named(api.lookup.service({ slug }), "SERVICE");
  const answer = await api.vms.relocationProposals({ serviceId: service.id });
  if (opts.json) return out(answer);
  if (answer.proposals.length === 0) return console.log(`No moves suggested: ${answer.none}`);
  const ms = (v: number) => `${Math.round(v)} ms`;
  for (const p of answer.proposals)
    console.log(
      `Move ${p.vm} from ${p.from.slug} to ${p.to.slug}: users' RTT ${ms(p.beforeMs)} → ${ms(p.afterMs)} (${Math.round(p.gainPercent)} % nearer); idle, CPU ${Math.round(p.cpu * 100)} %; ${formatBytes(p.bytes)} to copy\n  vms relocate ${p.vm} --hosting-network ${p.to.slug}`,
    );
}

/** `vms …` (or `vm …`): the lifecycle (thesis §3.2–3.4) from scripts, through the same API as the VMs page. */
export const vmsCommand: CliCommand = {
  noun: "vms",
  aliases: ["vm"],
  usage: `  vms list [--json] [--service SLUG]
  vms create NAME --service SLUG [--image NAME] [--wait]   (default: the service's newest image)
  vms activate NAME [--host HOST | --hosting-network SLUG] [--wait]
  vms deactivate NAME [--to nest|loading] [--host HOST | --hosting-network SLUG] [--wait]
  vms hibernate NAME [--wait]
  vms clone --service SLUG [--hosting-network SLUG] [--wait]
  vms move NAME [--host HOST] [--wait]         (a stopped VM)
  vms relocate NAME [--hosting-network SLUG | --host HOST] [--wait]   (a serving VM, memory kept)
  vms proposals SERVICE [--json]               (the Oracle's suggested moves: idle replicas closer to users)
  vms restart NAME [--wait]
  vms delete NAME --yes [--wait]`,
  options: {
    service: { type: "string" },
    host: { type: "string" },
    to: { type: "string" },
    wait: { type: "boolean" },
    "hosting-network": { type: "string" },
    yes: { type: "boolean" },
    image: { type: "string" },
  },
  async run({ api, verb, args, opts }) {
    const name = args[0];
    const reason = "requested from the CLI";
    switch (verb) {
      case "list": {
        const slug = stringOpt(opts, "service");
        const vms = await api.vms.list(slug ? { serviceId: await serviceId(api, opts) } : undefined);
        const rows = vms.map((v) => ({
          name: v.name,
          service: v.service.slug,
          phase: v.phase,
          power: v.power,
          host: v.host?.name ?? null,
          hostingNetwork: v.host?.hostingNetwork.slug ?? null,
          busy: v.operations.length > 0,
        }));
        if (opts.json) return out(rows);
        if (rows.length === 0) return console.log("No VMs.");
        for (const r of rows)
          console.log(
            `${r.name.padEnd(24)} ${r.service.padEnd(10)} ${r.phase.padEnd(11)} ${r.power.padEnd(8)} ${r.host ?? "—"}${r.busy ? "  (operation in progress)" : ""}`,
          );
        return;
      }
      case "create": {
        if (!name) throw new UsageError("name the new VM: e.g. vms create map-101 --service map");
        const service = await serviceId(api, opts);
        const imageName = stringOpt(opts, "image");
        let imageId: string | undefined;
        if (imageName !== undefined) {
          const image = (await api.vms.images()).find((i) => i.name === imageName && i.serviceId === service);
          if (!image) throw new UsageError(`--image: no image ${imageName} of that service (images list shows them)`);
          imageId = image.id;
        }
        return finish(api, opts, await api.vms.create({ name, serviceId: service, imageId, reason }));
      }
      case "activate":
        return finish(
          api,
          opts,
          await api.vms.activate({
            vmId: await vmId(api, name, verb),
            targetHostId: await hostId(api, opts),
            hostingNetworkId: await hostingNetworkId(api, opts),
            reason,
          }),
        );
      case "deactivate": {
        const to = (stringOpt(opts, "to") ?? "nest").toUpperCase();
        if (to !== "NEST" && to !== "LOADING") throw new UsageError("--to must be nest or loading");
        return finish(
          api,
          opts,
          await api.vms.deactivate({
            vmId: await vmId(api, name, verb),
            to,
            targetHostId: await hostId(api, opts),
            hostingNetworkId: await hostingNetworkId(api, opts),
            reason,
          }),
        );
      }
      case "hibernate":
        return finish(
          api,
          opts,
          await api.vms.hibernate({ vmId: await vmId(api, name, verb), targetHostId: await hostId(api, opts), reason }),
        );
      case "clone": {
        return finish(
          api,
          opts,
          await api.vms.clone({
            serviceId: await serviceId(api, opts),
            hostingNetworkId: await hostingNetworkId(api, opts),
            reason,
          }),
        );
      }
      case "move":
        return finish(
          api,
          opts,
          await api.vms.move({ vmId: await vmId(api, name, verb), targetHostId: await hostId(api, opts), reason }),
        );
      case "relocate":
        return finish(
          api,
          opts,
          await api.vms.relocate({
            vmId: await vmId(api, name, verb),
            targetHostId: await hostId(api, opts),
            hostingNetworkId: await hostingNetworkId(api, opts),
            reason,
          }),
        );
      case "proposals":
        return proposals(api, name, opts);
      case "restart":
        return finish(api, opts, await api.vms.restart({ vmId: await vmId(api, name, verb), reason }));
      case "delete":
        if (!opts.yes)
          throw new UsageError("delete removes the VM's files from its host for good: add --yes to confirm");
        return finish(api, opts, await api.vms.delete({ vmId: await vmId(api, name, verb), reason }));
      default:
        throw new UsageError(`unknown command vms ${verb ?? ""}`.trim());
    }
  },
};
