import { createInterface } from "node:readline/promises";
import { type Api, type CliCommand, named, out, stringOpt, UsageError } from "./command";

async function hostByName(api: Api, name: string | undefined) {
  if (!name) throw new UsageError("name the host: e.g. hosts probe tokyo-prod-1");
  return named(api.lookup.host({ name }));
}

/** `hosts …`: the host registry (list, add with a confirmed key, probe, drain, retire). */
export const hostsCommand: CliCommand = {
  noun: "hosts",
  usage: `  hosts list [--json] [--hosting-network SLUG]
  hosts add --name NAME --hosting-network SLUG --role NEST|LOADING|PRODUCTION
            --ssh USER@HOST[:PORT] --key file:/path/to/key|env:VAR [--vm-dir DIR]
            [--fingerprint SHA256:… | --yes]
  hosts probe NAME
  hosts confirm-key NAME [--fingerprint SHA256:…]
  hosts drain NAME [--undo] [--move-bookings]
  hosts retire NAME [--move-bookings]
  A host booked for matches is refused, naming them, unless --move-bookings places them
  again on the fairest other servers for the same players.`,
  options: {
    "hosting-network": { type: "string" },
    name: { type: "string" },
    role: { type: "string" },
    ssh: { type: "string" },
    key: { type: "string" },
    "vm-dir": { type: "string" },
    fingerprint: { type: "string" },
    yes: { type: "boolean" },
    undo: { type: "boolean" },
    "move-bookings": { type: "boolean" },
  },
  async run({ api, verb, args, opts }) {
    const arg = args[0];
    switch (verb) {
      case "list": {
        // Every page (the API answers up to 2000 hosts at a time; the cursor is the last host's id).
        const networks: Awaited<ReturnType<typeof api.hosts.list>> = [];
        for (let cursor: string | undefined; ;) {
          const page = await api.hosts.list({ limit: 2000, cursor });
          const hosts = page.flatMap((n) => n.hosts);
          for (const n of page) {
            const seen = networks.find((m) => m.id === n.id);
            if (seen) seen.hosts.push(...n.hosts);
            else networks.push(n);
          }
          if (hosts.length < 2000) break;
          cursor = hosts.at(-1)!.id;
        }
        const rows = networks
          .filter((n) => !stringOpt(opts, "hosting-network") || n.slug === stringOpt(opts, "hosting-network"))
          .flatMap((n) =>
            n.hosts.map((h) => ({
              name: h.name,
              hostingNetwork: n.slug,
              // Where the host is (its hosting network's city centre): scripts check placements with it.
              lat: n.lat,
              lon: n.lon,
              role: h.role,
              status: h.status,
              lastHeartbeatAt: h.lastHeartbeatAt?.toISOString() ?? null,
              draining: h.draining,
              hostKeyTrust: h.hostKeyTrust,
              // SSH details are for operators and administrators: a manager's answer has none.
              ssh: h.sshHost === undefined ? null : `${h.sshUser}@${h.sshHost}:${h.sshPort}`,
              vms: h.vms.length,
            })),
          );
        if (opts.json) return out(rows);
        if (rows.length === 0) return console.log("No hosts.");
        for (const r of rows) {
          console.log(
            `${r.name.padEnd(24)} ${r.hostingNetwork.padEnd(14)} ${r.role.padEnd(10)} ${r.status.padEnd(7)} ${(r.lastHeartbeatAt ?? "never").padEnd(24)} ${r.draining ? "draining" : ""}`,
          );
        }
        return;
      }
      case "add": {
        const m = /^([^@\s]+)@([^:\s]+)(?::(\d+))?$/.exec(stringOpt(opts, "ssh") ?? "");
        if (!m) throw new UsageError("--ssh must be USER@HOST or USER@HOST:PORT");
        const slug = stringOpt(opts, "hosting-network") ?? "";
        if (!slug) throw new UsageError(`--hosting-network: no hosting network ""`);
        const network = await named(api.lookup.hostingNetwork({ slug }), "--hosting-network");
        const sshHost = m[2]!;
        const sshPort = Number(m[3] ?? 22);
        let fingerprint = stringOpt(opts, "fingerprint");
        if (!fingerprint) {
          const key = await api.hosts.previewKey({ sshHost, sshPort });
          console.error(`${sshHost}:${sshPort} presents a ${key.keyType} key with fingerprint ${key.fingerprint}`);
          if (!opts.yes) {
            if (!process.stdin.isTTY)
              throw new UsageError(
                "confirm the fingerprint: pass --fingerprint SHA256:… (checked against the host) or --yes",
              );
            const rl = createInterface({ input: process.stdin, output: process.stderr });
            const answer = await rl.question(
              "Does it match the host's real key (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on the host)? [y/N] ",
            );
            rl.close();
            if (!/^y(es)?$/i.test(answer.trim())) throw new UsageError("not registered: fingerprint not confirmed");
          }
          fingerprint = key.fingerprint;
        }
        const host = await api.hosts.register({
          name: stringOpt(opts, "name") ?? "",
          hostingNetworkId: network.id,
          role: (stringOpt(opts, "role") ?? "") as "NEST",
          sshHost,
          sshPort,
          sshUser: m[1]!,
          sshKeyRef: stringOpt(opts, "key") ?? "",
          vmDir: stringOpt(opts, "vm-dir") ?? "/var/lib/vmatrix/vms",
          hostKeyFingerprint: fingerprint,
        });
        return out({
          name: host.name,
          hostingNetwork: network.slug,
          role: host.role,
          status: host.status,
          cpus: host.cpus,
          memoryMiB: host.memoryMiB,
          hostKeyFingerprint: host.hostKeyFingerprint,
        });
      }
      case "probe": {
        const host = await api.hosts.probe({ hostId: (await hostByName(api, arg)).id });
        return out({
          name: host.name,
          cpus: host.cpus,
          memoryMiB: host.memoryMiB,
          diskBytes: host.diskBytes,
          freeDiskBytes: host.freeDiskBytes,
          hypervisor: host.hypervisor,
          segments: host.segments,
        });
      }
      case "confirm-key": {
        // A changed SSH host key: without --fingerprint, show the pinned and the presented
        // fingerprints; with it, pin that one (the API checks the host presents it now).
        const host = await hostByName(api, arg);
        const fingerprint = stringOpt(opts, "fingerprint");
        if (fingerprint) {
          const after = await api.hosts.confirmKey({ hostId: host.id, hostKeyFingerprint: fingerprint });
          return out({
            name: after.name,
            hostKeyFingerprint: after.hostKeyFingerprint,
            hostKeyTrust: after.hostKeyTrust,
          });
        }
        const review = await api.hosts.reviewKey({ hostId: host.id });
        out({
          ...review,
          confirm: review.changed ? `hosts confirm-key ${review.name} --fingerprint ${review.presented}` : null,
        });
        if (review.changed)
          console.error(
            `${review.name} presents ${review.presented}, pinned is ${review.pinned ?? "none"}: confirm only if you know why it changed.`,
          );
        return;
      }
      case "drain": {
        const host = await api.hosts.setDraining({
          hostId: (await hostByName(api, arg)).id,
          draining: !opts.undo,
          moveBookings: !!opts["move-bookings"],
        });
        return out({ name: host.name, draining: host.draining, movedBookings: host.movedBookings });
      }
      case "retire": {
        const host = await api.hosts.retire({
          hostId: (await hostByName(api, arg)).id,
          moveBookings: !!opts["move-bookings"],
        });
        return out({ name: host.name, retiredAt: host.retiredAt, movedBookings: host.movedBookings });
      }
      default:
        throw new UsageError(`unknown command hosts ${verb ?? ""}`.trim());
    }
  },
};
