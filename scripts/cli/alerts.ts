import type { AlertView } from "../../server/registry/alerts";
import { type CliCommand, out, stringOpt, UsageError } from "./command";

/** An alert as scripts read it: the same object in `alerts list --json` and `alerts ack`. */
function alertJson(a: AlertView) {
  return {
    id: a.id,
    kind: a.kind,
    severity: a.severity,
    message: a.message,
    host: a.host?.name ?? null,
    hostingNetwork: a.hostingNetwork?.slug ?? null,
    vm: a.vm?.name ?? null,
    createdAt: a.createdAt.toISOString(),
    resolvedAt: a.resolvedAt?.toISOString() ?? null,
    acknowledgedAt: a.acknowledgedAt?.toISOString() ?? null,
    acknowledgedBy: a.acknowledgedBy?.email ?? null,
  };
}

/** `alerts …`: what the product raised (host down, unexpected VM, drift, …), and acknowledging them. */
export const alertsCommand: CliCommand = {
  noun: "alerts",
  usage: `  alerts list [--json] [--all] [--limit N]   (open ones; --all adds resolved ones, newest first)
  alerts ack ID                              (ids from alerts list)`,
  options: { all: { type: "boolean" }, limit: { type: "string" } },
  async run({ api, verb, args, opts }) {
    switch (verb) {
      case "list": {
        const limit = Number(stringOpt(opts, "limit") ?? 100);
        if (!Number.isInteger(limit) || limit < 1 || limit > 500)
          throw new UsageError("--limit must be a whole number from 1 to 500");
        const page = await api.alerts.list({ state: opts.all ? "all" : "open", limit });
        const rows = page.items.map(alertJson);
        if (opts.json) return out(rows);
        if (rows.length === 0) return console.log(opts.all ? "No alerts." : "No open alerts.");
        for (const a of rows) {
          const where = [a.host, a.hostingNetwork].filter(Boolean).join(" @ ") || "-";
          const state = a.resolvedAt
            ? `resolved ${a.resolvedAt}`
            : a.acknowledgedAt
              ? `acked by ${a.acknowledgedBy ?? "?"} ${a.acknowledgedAt}`
              : "open";
          console.log(
            `${a.id.padEnd(26)} ${a.severity.padEnd(8)} ${a.kind.padEnd(18)} ${where.padEnd(28)} ${a.createdAt}  ${state}\n    ${a.message}`,
          );
        }
        if (page.nextCursor) console.log(`(more than ${limit}; raise --limit to see more)`);
        return;
      }
      case "ack": {
        const id = args[0];
        if (!id) throw new UsageError("ID: name the alert: alerts ack ID (ids from alerts list)");
        const r = await api.alerts.acknowledge({ id });
        if (r.note) console.error(r.note);
        return out({ ...alertJson(r.alert), acknowledged: r.acknowledged, note: r.note });
      }
      default:
        throw new UsageError(`unknown command alerts ${verb ?? ""}`.trim());
    }
  },
};
