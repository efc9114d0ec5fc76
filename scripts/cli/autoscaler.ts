import type { PolicyPatch } from "../../server/autoscaler/policy-store";
import { type CliCommand, type Options, out, stringOpt, UsageError } from "./command";

/** `--flag N`: a number, refused in the flag's name. */
function num(opts: Options, flag: string): number | undefined {
  const v = stringOpt(opts, flag);
  if (v === undefined) return undefined;
  if (!/^-?\d+(\.\d+)?$/.test(v.trim())) throw new UsageError(`--${flag}: "${v}" is not a number`);
  return Number(v);
}

/** `--flag on|off`. */
function onOff(opts: Options, flag: string): boolean | undefined {
  const v = stringOpt(opts, flag);
  if (v === undefined) return undefined;
  if (v !== "on" && v !== "off") throw new UsageError(`--${flag}: must be on or off, not "${v}"`);
  return v === "on";
}

/** The change `autoscaler set` asks for: only the flags given; the API checks the whole policy. */
function patchFrom(opts: Options): PolicyPatch {
  const seasons = stringOpt(opts, "seasons");
  const patch: PolicyPatch = {
    enabled: onOff(opts, "enabled"),
    dryRun: onOff(opts, "dry-run"),
    cpuThresholdPercent: num(opts, "threshold"),
    windowMinutes: num(opts, "window"),
    scaleInPercent: num(opts, "scale-in"),
    cooldownMinutes: num(opts, "cooldown"),
    minReplicas: num(opts, "min"),
    maxReplicas: num(opts, "max"),
    idleReserveHosts: num(opts, "reserve"),
    autoRecover: onOff(opts, "auto-recover"),
    headroomCoverage: num(opts, "headroom"),
    seasonHours:
      seasons === undefined
        ? undefined
        : seasons.trim() === "none"
          ? []
          : seasons.split(",").map((h) => {
              if (!/^\d+$/.test(h.trim())) throw new UsageError(`--seasons: "${h}" is not a whole number of hours`);
              return Number(h);
            }),
  };
  const given = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as PolicyPatch;
  if (Object.keys(given).length === 0) throw new UsageError("autoscaler set: give at least one setting to change");
  return given;
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? "unknown" : `${v.toFixed(0)}%`);

/**
 * `autoscaler …`: the server-switching autoscaler's surface through the API (autoscaler.*):
 * a service's policy, a dry run of what it would do now and why, its decision log, and
 * changes to the policy (operators; audited).
 */
export const autoscalerCommand: CliCommand = {
  noun: "autoscaler",
  usage: `  autoscaler show SERVICE [--json]          its policy (none: not autoscaled) and the shared forecast tuning
  autoscaler plan SERVICE [--json]          what it would do now and why (a dry run: nothing is requested)
  autoscaler log SERVICE [--limit N] [--json]   its decisions, newest first, with reasons and inputs
  autoscaler set SERVICE [--threshold PCT] [--scale-in PCT] [--window MIN] [--cooldown MIN] [--min N] [--max N]
                 [--reserve HOSTS] [--headroom 0.5-0.999] [--seasons H,H|none] [--enabled on|off]
                 [--dry-run on|off] [--auto-recover on|off] [--json]`,
  options: {
    limit: { type: "string" },
    threshold: { type: "string" },
    "scale-in": { type: "string" },
    window: { type: "string" },
    cooldown: { type: "string" },
    min: { type: "string" },
    max: { type: "string" },
    reserve: { type: "string" },
    headroom: { type: "string" },
    seasons: { type: "string" },
    enabled: { type: "string" },
    "dry-run": { type: "string" },
    "auto-recover": { type: "string" },
  },
  async run({ api, verb, args, opts }) {
    const service = args[0];
    if (!service) throw new UsageError(`name the service: autoscaler ${verb ?? "show"} SERVICE`);
    switch (verb) {
      case "show": {
        const v = await api.autoscaler.show({ service });
        if (opts.json) return out(v);
        if (!v.policy) {
          console.log(
            `${service}: no policy, not autoscaled (autoscaler set ${service} … creates one from the defaults)`,
          );
          return;
        }
        const p = v.policy;
        console.log(
          `${service}: ${p.enabled ? (p.dryRun ? "dry run (decides, does not act)" : "on") : "off"}; bottleneck at ${p.cpuThresholdPercent}% CPU over ${p.windowMinutes} min, scale in below ${p.scaleInPercent}%, cool-down ${p.cooldownMinutes} min; ${p.minReplicas}–${p.maxReplicas} replicas; idle reserve ${p.idleReserveHosts} host(s); headroom covers ${((p.headroomCoverage ?? 0) * 100).toFixed(1)}% of past jumps; seasons ${p.seasonHours?.length ? p.seasonHours.map((h) => `${h} h`).join(", ") : "none"}; recovery ${p.autoRecover ? "on" : "off"}`,
        );
        return;
      }
      case "plan": {
        const plan = await api.autoscaler.plan({ service });
        if (opts.json) return out(plan);
        const r = plan.report;
        if (!r) {
          console.log(`${service}: no policy, not autoscaled`);
          return;
        }
        console.log(
          `${service} now: ${r.running} running, ${r.activating} activating, ${r.deactivating} deactivating; CPU ${pct(r.windowCpuPercent)}; wants ${r.wanted}${r.note ? ` (${r.note})` : ""}`,
        );
        if (plan.decisions.length === 0) console.log("would do nothing");
        for (const d of plan.decisions)
          console.log(
            d.kind === "server-loss"
              ? `would report a server loss: ${d.reason}`
              : d.kind === "activate"
                ? `would activate ${d.vmName} (from the ${d.from === "NEST" ? "Nest" : "Loading Chambers"}) on ${d.placement?.chosen?.name ?? "a free production host"}: ${d.reason}`
                : `would deactivate ${d.vmName} to ${d.placement?.chosen?.name ?? "the Nest"}: ${d.reason}`,
          );
        return;
      }
      case "log": {
        const limit = num(opts, "limit") ?? 20;
        const rows = await api.autoscaler.log({ service, limit });
        if (opts.json) return out(rows);
        if (rows.length === 0) return console.log(`${service}: no decisions yet`);
        for (const d of rows)
          console.log(`${d.at.toISOString()}  ${d.action.padEnd(11)} ${d.dryRun ? "(dry run) " : ""}${d.reason}`);
        return;
      }
      case "set": {
        const saved = await api.autoscaler.setPolicy({ service, policy: patchFrom(opts) });
        return out(saved);
      }
      default:
        throw new UsageError(`unknown command autoscaler ${verb ?? ""}`.trim());
    }
  },
};
