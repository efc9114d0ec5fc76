import { RECONCILER_REASON } from "../../server/replicas/plan";
import type { ReconcilePlanView } from "../../server/replicas/plan-view";
import { type Api, type CliCommand, named, out, stringOpt, UsageError } from "./command";

const POLL_MS = 1000;

type Target = Awaited<ReturnType<Api["replicas"]["list"]>>[number];

function rowJson(t: Target) {
  return {
    service: t.service.slug,
    hostingNetwork: t.hostingNetwork.slug,
    desired: t.desired,
    running: t.running,
    version: t.version,
    blockedReason: t.blockedReason,
    reconciledAt: t.reconciledAt?.toISOString() ?? null,
  };
}

async function bySlugs(api: Api, service: string | undefined, network: string | undefined) {
  if (!service || !network)
    throw new UsageError("name the service and the hosting network: replicas set SERVICE HOSTING_NETWORK COUNT");
  const [s, n] = await Promise.all([
    named(api.lookup.service({ slug: service })),
    named(api.lookup.hostingNetwork({ slug: network })),
  ]);
  return { service: s, network: n };
}

/** The dry run in lines: per service, what the reconciler would request and which targets it cannot meet. */
export function planLines(plan: ReconcilePlanView): string[] {
  if (plan.services.length === 0) return ["No replica targets set."];
  const lines = [
    `The reconciler's next pass (dry run, nothing requested): it may start ${plan.budget} new operation${plan.budget === 1 ? "" : "s"}.`,
  ];
  for (const s of plan.services) {
    const blocked = Object.entries(s.blocked);
    if (s.actions.length === 0 && blocked.length === 0) {
      lines.push(`${s.service}: nothing to do`);
      continue;
    }
    lines.push(`${s.service}:`);
    for (const a of s.actions) {
      const why = a.reason.startsWith(RECONCILER_REASON) ? a.reason.slice(RECONCILER_REASON.length).trim() : a.reason;
      lines.push(
        `  ${a.kind === "ACTIVATE" ? `activate ${a.vm} in` : `deactivate ${a.vm} from`} ${a.hostingNetwork}: ${why}`,
      );
    }
    for (const [hostingNetwork, why] of blocked) lines.push(`  blocked in ${hostingNetwork}: ${why}`);
  }
  return lines;
}

/** Whole seconds, from a typed option. */
function seconds(opts: Record<string, unknown>, name: string, fallback: number): number {
  const raw = stringOpt(opts as never, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1)
    throw new UsageError(`--${name} must be a whole number of seconds, at least 1`);
  return Number(raw);
}

/** `replicas …`: the replica targets (desired per service and hosting network). */
export const replicasCommand: CliCommand = {
  noun: "replicas",
  usage: `  replicas list [--json] [--service SLUG]
  replicas set SERVICE HOSTING_NETWORK COUNT [--wait [--timeout S]]
  replicas plan [--json]      (the reconciler's next pass as a dry run: what it would request, what is blocked)`,
  options: { timeout: { type: "string" } },
  async run({ api, verb, args, opts }) {
    switch (verb) {
      case "list": {
        const rows = (await api.replicas.list())
          .filter((t) => !stringOpt(opts, "service") || t.service.slug === stringOpt(opts, "service"))
          .map(rowJson);
        if (opts.json) return out(rows);
        if (rows.length === 0) return console.log("No replica targets set.");
        for (const r of rows)
          console.log(
            `${r.service.padEnd(12)} ${r.hostingNetwork.padEnd(16)} desired ${String(r.desired).padStart(3)}  running ${String(r.running).padStart(3)}${r.blockedReason ? `  blocked: ${r.blockedReason}` : ""}`,
          );
        return;
      }
      case "plan": {
        const plan = await api.replicas.plan();
        if (opts.json) return out(plan);
        for (const line of planLines(plan)) console.log(line);
        return;
      }
      case "set": {
        const [serviceSlug, networkSlug, countText] = args;
        const { service, network } = await bySlugs(api, serviceSlug, networkSlug);
        if (countText === undefined || !/^\d+$/.test(countText))
          throw new UsageError("COUNT must be a whole number, 0 or more");
        const timeoutS = seconds(opts, "timeout", 600);
        const key = { serviceId: service.id, hostingNetworkId: network.id };
        const current = (await api.replicas.list()).find(
          (t) => t.service.slug === service.slug && t.hostingNetwork.slug === network.slug,
        );
        // The version read here is what replicas.set checks: a concurrent change by someone else is refused, not overwritten.
        const saved = await api.replicas.set({ ...key, desired: Number(countText), version: current?.version ?? 0 });
        const savedAt = Date.now();
        if (!opts.wait) {
          const row = (await api.replicas.list()).find((t) => t.id === saved.id);
          return out(
            row
              ? rowJson(row)
              : { service: service.slug, hostingNetwork: network.slug, desired: saved.desired, version: saved.version },
          );
        }
        const deadline = savedAt + timeoutS * 1000;
        for (;;) {
          const row = (await api.replicas.list()).find((t) => t.id === saved.id);
          if (!row) throw new Error("the replica target disappeared while waiting");
          if (row.version !== saved.version)
            throw new Error(`changed by someone else while waiting: now ${row.desired} (version ${row.version})`);
          if (row.running === row.desired) return out(rowJson(row));
          // Only the reconciler's word on this change counts, not one from before it.
          if (row.blockedReason && row.reconciledAt && row.reconciledAt.getTime() >= savedAt) {
            throw new Error(
              `cannot reach ${row.desired} replicas of ${service.slug} in ${network.slug} (running ${row.running}): ${row.blockedReason}`,
            );
          }
          if (Date.now() > deadline)
            throw new Error(
              `timed out after ${timeoutS} s: ${row.running} of ${row.desired} replicas of ${service.slug} running in ${network.slug}`,
            );
          await new Promise((r) => setTimeout(r, POLL_MS));
        }
      }
      default:
        throw new UsageError(`unknown command replicas ${verb ?? ""}`.trim());
    }
  },
};
