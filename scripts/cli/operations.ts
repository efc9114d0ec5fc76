import { OPERATION_STATES } from "../../server/operation-states";
import { type CliCommand, out, stringOpt, UsageError } from "./command";
import { operationJson, waitForOperation } from "./wait";

const STATES = [...OPERATION_STATES, "active"] as const;
type State = (typeof STATES)[number];

/** `operations …` (or `ops …`): operations as scripts and operators follow them. */
export const operationsCommand: CliCommand = {
  noun: "operations",
  aliases: ["ops"],
  usage: `  operations list [--json] [--state STATE|active] [--vm NAME] [--limit N]
  operations watch [ID]       (one operation, or all in progress, until they end)
  operations cancel ID`,
  options: { state: { type: "string" }, vm: { type: "string" }, limit: { type: "string" } },
  async run({ api, verb, args, opts }) {
    switch (verb) {
      case "list": {
        const raw = stringOpt(opts, "state");
        const state = raw ? (raw === "active" ? "active" : raw.toUpperCase()) : undefined;
        if (state && !STATES.includes(state as State))
          throw new UsageError(`--state must be one of ${STATES.join(", ").toLowerCase()}`);
        const limit = Number(stringOpt(opts, "limit") ?? 100);
        if (!Number.isInteger(limit) || limit < 1 || limit > 500)
          throw new UsageError("--limit must be a whole number from 1 to 500");
        const ops = await api.operations.list({
          state: state as State | undefined,
          vmName: stringOpt(opts, "vm"),
          limit,
        });
        const rows = ops.map(operationJson);
        if (opts.json) return out(rows);
        if (rows.length === 0) return console.log("No operations.");
        for (const o of rows) {
          const step = o.steps.find((s) => s.state === "RUNNING")?.name ?? "";
          console.log(
            `${o.id.padEnd(26)} ${o.kind.padEnd(10)} ${o.vm.padEnd(20)} ${o.state.padEnd(11)} ${String(Math.round(o.progress * 100)).padStart(3)}% ${step}${o.error ? `  ${o.error}` : ""}`,
          );
        }
        return;
      }
      case "watch": {
        const id = args[0];
        if (id) {
          const done = await waitForOperation(api, id);
          console.log(
            `${done.kind.toLowerCase()} ${done.vm.name}: ${done.state.toLowerCase()}${done.error ? `: ${done.error}` : ""}`,
          );
          if (done.state !== "SUCCEEDED") process.exitCode = 1;
          return;
        }
        const active = await api.operations.list({ state: "active", limit: 500 });
        if (active.length === 0) return console.log("No operations in progress.");
        const ended = await Promise.all(active.map((o) => waitForOperation(api, o.id)));
        for (const d of ended)
          console.log(`${d.kind.toLowerCase()} ${d.vm.name}: ${d.state.toLowerCase()}${d.error ? `: ${d.error}` : ""}`);
        if (ended.some((d) => d.state !== "SUCCEEDED")) process.exitCode = 1;
        return;
      }
      case "cancel": {
        if (!args[0]) throw new UsageError("name the operation: operations cancel ID (ids from operations list)");
        const op = await api.operations.cancel({ id: args[0] });
        return out({ id: op.id, state: op.state });
      }
      default:
        throw new UsageError(`unknown command operations ${verb ?? ""}`.trim());
    }
  },
};
