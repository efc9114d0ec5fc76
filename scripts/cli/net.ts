import { config } from "../../server/config";
import { ResolveError, resolveFrom } from "../../server/edge/view";
import { type CliCommand, out, stringOpt, UsageError } from "./command";

/** `--from LAT,LON`: a place, checked field by field. */
function place(raw: string | undefined) {
  const m = raw === undefined ? null : /^(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)$/.exec(raw);
  if (!m) throw new UsageError("--from must be LAT,LON in degrees, e.g. --from 35.68,139.69");
  const [lat, lon] = [Number(m[1]), Number(m[2])];
  if (lat < -90 || lat > 90) throw new UsageError("--from: latitude must be between -90 and 90");
  if (lon < -180 || lon > 180) throw new UsageError("--from: longitude must be between -180 and 180");
  return { lat, lon };
}

/** `net …`: what network mimicking gives a VM, and what the DNS answers a client at a place. */
export const netCommand: CliCommand = {
  usage: `  net show VM [--json]
  net resolve NAME --from LAT,LON [--json]`,
  options: { from: { type: "string" } },
  async run({ db, api, verb, args, opts }) {
    switch (verb) {
      case "show": {
        const [name] = args;
        if (!name) throw new UsageError("name the VM: net show VM");
        const entries = await api.network.vm({ name });
        if (opts.json) return out(entries);
        for (const e of entries) {
          const ports = e.ports.map((p) => `${p.port}/${p.proto}`).join(",") || "-";
          console.log(`${(e.hostingNetwork ?? "-").padEnd(14)} ${(e.kind ?? "-").padEnd(4)} ${(e.state ?? "unbound").padEnd(8)} public ${e.publicAddress ?? "-"} → private ${e.privateAddress ?? "-"} ports ${ports}${e.backend ? ` backend ${e.backend.name}/${e.backend.server}` : ""}${e.dns ? ` dns ${e.dns.name}` : ""} segment ${e.segment}`);
        }
        return;
      }
      case "resolve": {
        const [name] = args;
        if (!name) throw new UsageError("name the DNS name: net resolve NAME --from LAT,LON");
        const from = place(stringOpt(opts, "from"));
        const cfg = config();
        let r;
        try {
          r = await resolveFrom(db, name, from, cfg.DNS_ZONE, cfg.DNS_TTL);
        } catch (err) {
          if (err instanceof ResolveError) throw new UsageError(err.message);
          throw err;
        }
        if (opts.json) return out(r);
        if (r.answers.length === 0) return console.log(`${r.name}: no serving replica (empty answer)`);
        for (const a of r.answers) console.log(`${r.name} ${r.ttl} IN A ${a.address}   ; ${a.vm} in ${a.city} (${a.hostingNetwork})${a.rttMs === null ? "" : `, ~${a.rttMs} ms`}`);
        return;
      }
      default:
        throw new UsageError(`unknown verb ${verb ?? "(none)"} for net: show or resolve`);
    }
  },
};
