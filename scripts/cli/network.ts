import { isIPv4 } from "node:net";
import { type Api, type CliCommand, type Options, out, stringOpt, UsageError } from "./command";

/** `--from LAT,LON`: a place, checked field by field. */
function place(raw: string | undefined) {
  const m = raw === undefined ? null : /^(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)$/.exec(raw);
  if (!m) throw new UsageError("--from must be LAT,LON in degrees, e.g. --from 35.68,139.69");
  const [lat, lon] = [Number(m[1]), Number(m[2])];
  if (lat < -90 || lat > 90) throw new UsageError("--from: latitude must be between -90 and 90");
  if (lon < -180 || lon > 180) throw new UsageError("--from: longitude must be between -180 and 180");
  return { lat, lon };
}

/**
 * `network probe ADDRESS PORT`: what the edge that owns ADDRESS (the hosting network whose pool
 * holds it) does with a new connection from the internet, from its live nftables table
 * (the API's `network.probe` reads it).
 */
async function probe(api: Api, args: string[], protoRaw: string | undefined) {
  const [address, portRaw] = args;
  if (!address || !isIPv4(address))
    throw new UsageError("ADDRESS must be a public IPv4 address: network probe ADDRESS PORT [--proto tcp|udp]");
  if (!portRaw || !/^\d{1,5}$/.test(portRaw) || Number(portRaw) < 1 || Number(portRaw) > 65535)
    throw new UsageError("PORT must be a number from 1 to 65535");
  const proto = protoRaw ?? "tcp";
  if (proto !== "tcp" && proto !== "udp") throw new UsageError("--proto must be tcp or udp");
  return api.network.probe({ address, port: Number(portRaw), proto });
}

/**
 * `network backend SERVICE [--endpoint HOST:PORT --public-key KEY --cidr CIDR | --clear]`: shows
 * or declares a service's back end (two-tier, thesis §4.3.2) through network.setBackend, so
 * its validation and audit are the API's; the network loop then converges the edges.
 */
async function backend(api: Api, args: string[], opts: Options) {
  const [service] = args;
  if (!service)
    throw new UsageError(
      "name the service: network backend SERVICE [--endpoint HOST:PORT --public-key KEY --cidr CIDR | --clear]",
    );
  const given = {
    backendEndpoint: stringOpt(opts, "endpoint"),
    backendPublicKey: stringOpt(opts, "public-key"),
    backendCidr: stringOpt(opts, "cidr"),
  };
  const count = Object.values(given).filter((v) => v !== undefined).length;
  if (opts.clear && count > 0) throw new UsageError("--clear takes no --endpoint, --public-key or --cidr");
  if (count > 0 && count < 3) throw new UsageError("give --endpoint, --public-key and --cidr together (or --clear)");
  if (opts.clear)
    return api.network.setBackend({ service, backendEndpoint: null, backendPublicKey: null, backendCidr: null });
  if (count === 3)
    return api.network.setBackend({
      service,
      backendEndpoint: given.backendEndpoint!,
      backendPublicKey: given.backendPublicKey!,
      backendCidr: given.backendCidr!,
    });
  return api.network.backend({ service });
}

/** `network …` (or `net …`): what network mimicking gives a VM, and what the DNS answers a client at a place. */
export const networkCommand: CliCommand = {
  noun: "network",
  aliases: ["net"],
  usage: `  network show VM [--json]
  network resolve NAME --from LAT,LON [--json]
  network probe ADDRESS PORT [--proto tcp|udp] [--json]
  network backend SERVICE [--json]             (a service's back end and its tunnels home)
  network backend SERVICE --endpoint HOST:PORT --public-key KEY --cidr CIDR [--json]
  network backend SERVICE --clear [--json]
  network pool HOSTING-NETWORK [--json]         (its public address pool and what uses it)
  network pool HOSTING-NETWORK CIDR [--json]    (change it: must still hold every address in use)`,
  options: {
    from: { type: "string" },
    proto: { type: "string" },
    endpoint: { type: "string" },
    "public-key": { type: "string" },
    cidr: { type: "string" },
    clear: { type: "boolean" },
  },
  async run({ api, verb, args, opts }) {
    switch (verb) {
      case "show": {
        const [name] = args;
        if (!name) throw new UsageError("name the VM: network show VM");
        const entries = await api.network.vm({ name });
        if (opts.json) return out(entries);
        for (const e of entries) {
          const ports = e.ports.map((p) => `${p.port}/${p.proto}`).join(",") || "-";
          console.log(
            `${(e.hostingNetwork ?? "-").padEnd(14)} ${(e.kind ?? "-").padEnd(4)} ${(e.state ?? "unbound").padEnd(8)} public ${e.publicAddress ?? "-"} → private ${e.privateAddress ?? "-"} ports ${ports}${e.backend ? ` backend ${e.backend.name}/${e.backend.server}` : ""}${e.dns ? ` dns ${e.dns.name}` : ""} segment ${e.segment}`,
          );
        }
        return;
      }
      case "resolve": {
        const [name] = args;
        if (!name) throw new UsageError("name the DNS name: network resolve NAME --from LAT,LON");
        const from = place(stringOpt(opts, "from"));
        const r = await api.network.resolve({ name, from });
        if (opts.json) return out(r);
        if (r.answers.length === 0) return console.log(`${r.name}: no serving replica (empty answer)`);
        for (const a of r.answers)
          console.log(
            `${r.name} ${r.ttl} IN A ${a.address}   ; ${a.vm} in ${a.city} (${a.hostingNetwork})${a.rttMs === null ? "" : `, ~${a.rttMs} ms`}`,
          );
        return;
      }
      case "probe": {
        const r = await probe(api, args, stringOpt(opts, "proto"));
        if (opts.json) return out(r);
        const how = r.rule ? `by ${r.rule}` : `by the ${r.chain} chain's policy`;
        console.log(
          `${r.address}:${r.port}/${r.proto} at edge ${r.edge} (${r.hostingNetwork}): ${r.verdict === "accept" ? "accepted" : "dropped"}${r.dnatTo ? ` (DNAT to ${r.dnatTo})` : ""} ${how}`,
        );
        return;
      }
      case "backend": {
        const b = await backend(api, args, opts);
        if (opts.json) return out(b);
        if (!b.twoTier) console.log(`${b.service}: one-tier (no back end)`);
        else
          console.log(
            `${b.service}: back end ${b.backendEndpoint}, key ${b.backendPublicKey}, network ${b.backendCidr}`,
          );
        for (const t of b.tunnels) {
          console.log(
            `  ${t.vm.padEnd(16)} ${t.hostingNetwork.padEnd(14)} ${t.interface} ${t.state.toLowerCase()}${t.current ? "" : " (converging)"} edge key ${t.publicKey ?? "-"} allow ${t.backendAllows.join(",")}`,
          );
        }
        return;
      }
      case "pool": {
        const [hostingNetwork, cidr] = args;
        if (!hostingNetwork) throw new UsageError("name the hosting network: network pool HOSTING-NETWORK [CIDR]");
        const view =
          cidr === undefined
            ? await api.network.hostingNetwork({ slug: hostingNetwork })
            : await api.network.setPool({ hostingNetwork, publicPoolCidr: cidr });
        if (opts.json) return out(view);
        console.log(
          `${view.hostingNetwork}: public pool ${view.pool.cidr}, ${view.pool.used} of ${view.pool.size} addresses in use`,
        );
        for (const a of view.pool.addresses)
          console.log(
            `  ${a.address.padEnd(15)} ${a.kind.padEnd(3)} ${a.service} (${a.vms.join(", ")})${a.ports.length ? ` ports ${a.ports.join(",")}` : ""}`,
          );
        return;
      }
      default:
        throw new UsageError(`unknown verb ${verb ?? "(none)"} for network: show, resolve, probe, backend or pool`);
    }
  },
};
