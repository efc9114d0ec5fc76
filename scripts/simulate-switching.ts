/**
 * Replays a per-service demand trace through the server-switching autoscaler (the same
 * decision function and policy defaults the Oracle uses) on a simulated shared pool.
 *
 *   npm run simulate:switching -- --trace FILE [--hosts N] [--json]
 *                                  [--activation-delay SECONDS] [--deactivation-delay SECONDS]
 *                                  [--reaction-delay SECONDS] [--scale-in-percent P]
 *
 * FILE: CSV `time,service,demand` (server/oracle/autoscaler/trace.ts). Prints a readable summary,
 * or with --json one object: thresholdPercent, staticHosts, staticHostHours, hostHours,
 * savedPercent, peakHosts, serverLossEvents, serverLossMinutes, overloadPercent, moves,
 * plus activations, deactivations, reserveHostHours, durationHours, poolHosts,
 * reserveHosts, the delays and per-service figures. The time model (reaction delay: a
 * new load level is acted on one CPU sample + one loop pass after it starts) is in
 * server/oracle/autoscaler/replay.ts and docs/server-switching.md.
 * Bad input: exit 1 with one line naming the file, the line and the reason.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  type AutoscalingPolicy,
  DEFAULT_POLICY,
  DEFAULT_TUNING,
  policyProblems,
} from "../server/oracle/autoscaler/policy";
import { DEFAULT_REACTION_DELAY_S, replay, type ReplayResult } from "../server/oracle/autoscaler/replay";
import { parseTrace, type Trace, TraceError } from "../server/oracle/autoscaler/trace";
import { fail, runCli } from "./lib/one-line-cli";

/**
 * Default activation delay, seconds: a pre-booted VM of ~4 GB (the thesis' VM file size)
 * copied over Gigabit Ethernet ("under a minute", §5.3.3) plus its restore; the libvirt
 * lab's 95 MB guest took 6–12 s end to end (save, copy, restore).
 */
const DEFAULT_ACTIVATION_DELAY_S = 60;

function seconds(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+(\.\d+)?$/.test(text)) fail(`--${name}: "${text}" is not a number of seconds ≥ 0`);
  return Number(text);
}

function main(): void {
  const { values } = parseArgs({
    options: {
      trace: { type: "string" },
      hosts: { type: "string" },
      json: { type: "boolean", default: false },
      "activation-delay": { type: "string" },
      "deactivation-delay": { type: "string" },
      "reaction-delay": { type: "string" },
      "scale-in-percent": { type: "string" },
    },
  });
  if (!values.trace) fail("missing --trace FILE (CSV with header time,service,demand)");
  let hosts: number | undefined;
  if (values.hosts !== undefined) {
    if (!/^\d+$/.test(values.hosts) || Number(values.hosts) < 1)
      fail(`--hosts: "${values.hosts}" is not a whole number ≥ 1`);
    hosts = Number(values.hosts);
  }
  const activationDelaySeconds = seconds("activation-delay", values["activation-delay"], DEFAULT_ACTIVATION_DELAY_S);
  const deactivationDelaySeconds = seconds("deactivation-delay", values["deactivation-delay"], activationDelaySeconds);
  // Above 0: at the very start of a period its level has not been sampled yet.
  const reactionText = values["reaction-delay"];
  if (reactionText !== undefined && !(/^\d+(\.\d+)?$/.test(reactionText) && Number(reactionText) > 0)) {
    fail(`--reaction-delay: "${reactionText}" is not a number of seconds > 0`);
  }
  const reactionDelaySeconds = reactionText === undefined ? DEFAULT_REACTION_DELAY_S : Number(reactionText);
  const policy = { ...DEFAULT_POLICY };
  if (values["scale-in-percent"] !== undefined) {
    policy.scaleInPercent = Number(values["scale-in-percent"]);
    const problems = policyProblems(policy);
    if (!/^\d+(\.\d+)?$/.test(values["scale-in-percent"]) || problems.length) {
      fail(
        `--scale-in-percent: "${values["scale-in-percent"]}" must be a number from 0 to below the CPU threshold (${policy.cpuThresholdPercent})`,
      );
    }
  }

  let text: string;
  try {
    text = readFileSync(values.trace, "utf8");
  } catch (error) {
    fail(`cannot read ${values.trace}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let trace: Trace;
  try {
    trace = parseTrace(text);
  } catch (error) {
    if (error instanceof TraceError) fail(`${values.trace}: ${error.message}`);
    throw error;
  }

  const result = replay(trace, {
    hosts,
    activationDelaySeconds,
    deactivationDelaySeconds,
    reactionDelaySeconds,
    policy,
  });
  process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : readable(values.trace, trace, result, policy));
}

const n1 = (x: number) => x.toFixed(1);

function readable(file: string, trace: Trace, r: ReplayResult, p: AutoscalingPolicy): string {
  const t = DEFAULT_TUNING;
  const steps = trace.times.slice(1).map((x, i) => x - trace.times[i]!);
  const step = steps.sort((a, b) => a - b)[Math.floor(steps.length / 2)]! / 1000;
  const when = (ms: number) =>
    trace.timeFormat === "iso" ? new Date(ms).toISOString().slice(0, 16) + "Z" : `${ms / 1000} s`;
  const lines = [
    `${file}: ${trace.services.length} services, ${trace.times.length} samples every ${step >= 60 ? `${n1(step / 60)} min` : `${step} s`}, ${n1(r.durationHours)} h (${when(trace.times[0]!)} to ${when(trace.times.at(-1)!)})`,
    `policy: bottleneck at ${p.cpuThresholdPercent}% CPU over ${p.windowMinutes} min; scale in under ${p.scaleInPercent}% mean CPU after a ${p.cooldownMinutes} min cool-down; at least ${p.minReplicas} replica, at most the service's static count; idle reserve ${r.reserveHosts}`,
    `forecast: ${t.leadMinutes} min ahead (scale-in ${t.scaleInLookaheadMinutes} min): latest load + the rise seen the same time ${t.seasonHours.map((h) => `${h} h`).join(" and ")} ago + headroom covering ${100 * t.coverage}% of the service's past jumps (${100 * t.scaleInCoverage}% to give a host back)`,
    `time: each level acted on ${r.reactionDelaySeconds} s after it starts (reaction: a CPU sample + a loop pass); activation ${r.activationDelaySeconds} s, deactivation ${r.deactivationDelaySeconds} s`,
    "",
    `static provisioning: ${r.staticHosts} hosts (each service at ceil(peak / ${r.thresholdPercent}%)) = ${n1(r.staticHostHours)} host-hours`,
    `server switching:    ${n1(r.hostHours)} host-hours (idle reserve ${n1(r.reserveHostHours)} included) on a pool of ${r.poolHosts}: ${n1(r.savedPercent)}% saved, peak ${r.peakHosts} hosts`,
    `overload:            ${r.overloadPercent.toFixed(2)}% of service-time above ${r.thresholdPercent}% of the running hosts`,
    `server loss:         ${r.serverLossEvents} events, ${n1(r.serverLossMinutes)} min`,
    `moves:               ${r.moves} (${r.activations} activations, ${r.deactivations} deactivations)`,
    "",
    table(r),
  ];
  return `${lines.join("\n")}\n`;
}

function table(r: ReplayResult): string {
  const head = [
    "service",
    "peak demand",
    "static hosts",
    "host-hours",
    "saved %",
    "peak hosts",
    "overload %",
    "moves",
    "server loss",
  ];
  const rows = r.services.map((s) => {
    const staticHours = s.staticHosts * r.durationHours;
    return [
      s.service,
      s.peakDemand.toFixed(2),
      String(s.staticHosts),
      n1(s.hostHours),
      staticHours > 0 ? n1(100 * (1 - s.hostHours / staticHours)) : "-",
      String(s.peakHosts),
      s.overloadPercent.toFixed(2),
      String(s.activations + s.deactivations),
      `${s.serverLossEvents} (${n1(s.serverLossMinutes)} min)`,
    ];
  });
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const fmt = (row: string[]) =>
    row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ");
  return [fmt(head), ...rows.map(fmt), "(per service, host-hours exclude the idle reserve)"].join("\n");
}

runCli(main);
