import type { Builtin } from "../context";
import { write } from "../streams";

/**
 * iproute2 6.1 `ip` on a sim edge: `ip -j addr show dev IF`, `ip addr add|del A/P dev IF`,
 * with iproute2's JSON and the refusals a Debian 12 edge prints (the 6.1 kernel's extended ack).
 */
export const ip: Builtin = async (argv, io, ctx) => {
  const edge = ctx.host.edge;
  if (!edge) {
    await write(io.stderr, "bash: ip: command not found\n");
    return 127;
  }
  const a = argv.slice(1);
  const links = edge.data.links;
  if (a.length === 5 && a[0] === "-j" && a[1] === "addr" && a[2] === "show" && a[3] === "dev") {
    const link = links[a[4]!];
    if (!link) {
      await write(io.stderr, `Device "${a[4]}" does not exist.\n`);
      return 1;
    }
    const lo = a[4] === "lo";
    const entry = {
      ifindex: link.ifindex,
      ifname: a[4],
      flags: lo ? ["LOOPBACK", "UP", "LOWER_UP"] : ["BROADCAST", "NOARP", "UP", "LOWER_UP"],
      mtu: lo ? 65536 : 1500,
      qdisc: "noqueue",
      operstate: "UNKNOWN",
      group: "default",
      txqlen: 1000,
      link_type: lo ? "loopback" : "ether",
      address: lo ? "00:00:00:00:00:00" : "a6:3e:51:0c:7d:12",
      broadcast: lo ? "00:00:00:00:00:00" : "ff:ff:ff:ff:ff:ff",
      addr_info: link.addresses.map((cidr) => {
        const [local, prefixlen] = cidr.split("/");
        return { family: "inet", local, prefixlen: Number(prefixlen), scope: lo ? "host" : "global", label: a[4], valid_life_time: 4294967295, preferred_life_time: 4294967295 };
      }),
    };
    await write(io.stdout, JSON.stringify([entry]) + "\n");
    return 0;
  }
  if (a.length === 5 && a[0] === "addr" && (a[1] === "add" || a[1] === "del") && a[3] === "dev") {
    const link = links[a[4]!];
    if (!link) {
      await write(io.stderr, `Cannot find device "${a[4]}"\n`);
      return 1;
    }
    if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(a[2]!)) {
      await write(io.stderr, `Error: any valid prefix is expected rather than "${a[2]}".\n`);
      return 1;
    }
    const has = link.addresses.includes(a[2]!);
    if (a[1] === "add" && has) {
      await write(io.stderr, "Error: ipv4: Address already assigned.\n");
      return 2;
    }
    if (a[1] === "del" && !has) {
      await write(io.stderr, "Error: ipv4: Address not found.\n");
      return 2;
    }
    link.addresses = a[1] === "add" ? [...link.addresses, a[2]!] : link.addresses.filter((x) => x !== a[2]);
    await edge.save();
    return 0;
  }
  await write(io.stderr, 'Object "' + (a[0] ?? "") + '" is unknown, try "ip help".\n');
  return 255;
};
