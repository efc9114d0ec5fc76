import { type CliCommand, out, stringOpt, UsageError } from "./command";

/**
 * `pools …`: pre-booted pools per service and hosting network (pools.list, pools.set): how
 * many suspended VMs wait in a network's Nest for flash crowds there.
 */
export const poolsCommand: CliCommand = {
  noun: "pools",
  aliases: ["pool"],
  usage: `  pools list [--json]                                   each pool: size, ready, refilling, why not refilled
  pools set SERVICE --hosting-network SLUG --size N     (0 removes the pool)`,
  options: { "hosting-network": { type: "string" }, size: { type: "string" } },
  async run({ api, verb, args, opts }) {
    switch (verb) {
      case "list": {
        const rows = await api.pools.list();
        if (opts.json) return out(rows);
        if (rows.length === 0)
          return console.log("No pools: pools set SERVICE --hosting-network SLUG --size N makes one.");
        for (const p of rows)
          console.log(
            `${p.service.padEnd(12)} ${p.hostingNetwork.padEnd(14)} ${p.ready}/${p.size} ready${p.refilling ? `, ${p.refilling} on the way` : ""}${p.empty ? "  EMPTY" : ""}${p.blockedReason ? `  blocked: ${p.blockedReason}` : ""}`,
          );
        return;
      }
      case "set": {
        const service = args[0];
        if (!service) throw new UsageError("name the service: pools set SERVICE --hosting-network SLUG --size N");
        const hostingNetwork = stringOpt(opts, "hosting-network");
        if (!hostingNetwork) throw new UsageError("--hosting-network: required, e.g. --hosting-network tokyo");
        const size = stringOpt(opts, "size");
        if (!size || !/^\d+$/.test(size)) throw new UsageError(`--size: "${size ?? ""}" is not a whole number`);
        return out(await api.pools.set({ service, hostingNetwork, size: Number(size) }));
      }
      default:
        throw new UsageError(`unknown command pools ${verb ?? ""}`.trim());
    }
  },
};
