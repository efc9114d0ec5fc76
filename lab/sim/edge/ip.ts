import type { Builtin } from "../context";
import { write } from "../streams";

/**
 * iproute2 6.1 `ip` on a sim edge: `ip -j addr show dev IF`, `ip addr add|del|replace A/P dev IF`,
 * and for tunnels `ip -j link show dev IF`, `ip link set dev IF up`, `ip link del dev IF`,
 * `ip route replace CIDR dev IF table T`, `ip -j rule show`, `ip rule add from A lookup T pref P`,
 * `ip -j route show table T`, `ip route del DST table T`, `ip rule add from A iif IF lookup T pref P`, `ip rule del [from A] pref P`; for owner segments `ip -j -d link show dev vmxsN`,
 * `ip route replace default dev vmxsN table T`, `ip rule add fwmark N lookup T pref P` — with
 * iproute2's JSON and the refusals a Debian 12 edge prints (the 6.1 kernel's extended ack,
 * RTNETLINK errno texts). A sim edge has a trunk carrying every VLAN: its leg into owner
 * segment N is the 802.1Q link vmxsN (VLAN N), as on a gateway whose site uses VLANs.
 */

const TRUNK = "vmx-trunk";
/** The leg into segment N, if `dev` names one: VLAN N of the trunk. */
function segmentLeg(dev: string): { ifindex: number; vlanId: number } | null {
  const m = /^vmxs([1-9]\d{0,3})$/.exec(dev);
  const n = m ? Number(m[1]) : 0;
  return n >= 1 && n <= 4094 ? { ifindex: 1000 + n, vlanId: n } : null;
}

const CIDR_RE = /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/;
const ADDRESS_RE = /^\d{1,3}(\.\d{1,3}){3}$/;
export const ip: Builtin = async (argv, io, ctx) => {
  if (argv.slice(1).join(" ") === "-j link show type bridge") {
    // Any host: its bridges, as iproute2 lists them (a few of the fields).
    const links = ctx.host.bridges.map((ifname, i) => ({
      ifindex: 10 + i,
      ifname,
      flags: ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
      mtu: 1500,
      qdisc: "noqueue",
      operstate: "UP",
      linkmode: "DEFAULT",
      group: "default",
      link_type: "ether",
      address: "52:54:00:12:34:56",
      broadcast: "ff:ff:ff:ff:ff:ff",
    }));
    await write(io.stdout, JSON.stringify(links) + "\n");
    return 0;
  }
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
        return {
          family: "inet",
          local,
          prefixlen: Number(prefixlen),
          scope: lo ? "host" : "global",
          label: a[4],
          valid_life_time: 4294967295,
          preferred_life_time: 4294967295,
        };
      }),
    };
    await write(io.stdout, JSON.stringify([entry]) + "\n");
    return 0;
  }
  const noDevice = async (dev: string) => {
    await write(io.stderr, `Cannot find device "${dev}"\n`);
    return 1;
  };
  if (a.length === 6 && a[0] === "-j" && a[1] === "-d" && a[2] === "link" && a[3] === "show" && a[4] === "dev") {
    const leg = segmentLeg(a[5]!);
    if (!leg) {
      await write(io.stderr, `Device "${a[5]}" does not exist.\n`);
      return 1;
    }
    const entry = {
      ifindex: leg.ifindex,
      link: TRUNK,
      ifname: a[5],
      flags: ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
      mtu: 1500,
      qdisc: "noqueue",
      operstate: "UP",
      linkmode: "DEFAULT",
      group: "default",
      link_type: "ether",
      address: "a6:3e:51:0c:7d:13",
      broadcast: "ff:ff:ff:ff:ff:ff",
      promiscuity: 0,
      min_mtu: 0,
      max_mtu: 65535,
      linkinfo: { info_kind: "vlan", info_data: { protocol: "802.1Q", id: leg.vlanId, flags: ["REORDER_HDR"] } },
    };
    await write(io.stdout, JSON.stringify([entry]) + "\n");
    return 0;
  }
  if (
    a.length === 7 &&
    a[0] === "route" &&
    a[1] === "replace" &&
    a[2] === "default" &&
    a[3] === "dev" &&
    a[5] === "table" &&
    /^\d+$/.test(a[6]!)
  ) {
    if (!links[a[4]!] && !segmentLeg(a[4]!)) return noDevice(a[4]!);
    const routes = ((edge.data.routes ??= {})[a[6]!] ??= []);
    edge.data.routes[a[6]!] = [...routes.filter((r) => r.dst !== "default"), { dst: "default", dev: a[4]! }];
    await edge.save();
    return 0;
  }
  if (
    a.length === 8 &&
    a[0] === "rule" &&
    a[1] === "add" &&
    a[2] === "fwmark" &&
    a[4] === "lookup" &&
    a[6] === "pref" &&
    /^\d+$/.test(a[3]!) &&
    /^\d+$/.test(a[5]!) &&
    /^\d+$/.test(a[7]!)
  ) {
    const rules = (edge.data.rules ??= []);
    const rule = { priority: Number(a[7]), src: "all", fwmark: `0x${Number(a[3]).toString(16)}`, table: a[5]! };
    if (rules.some((r) => r.priority === rule.priority && r.fwmark === rule.fwmark && r.table === rule.table)) {
      await write(io.stderr, "RTNETLINK answers: File exists\n");
      return 2;
    }
    rules.push(rule);
    await edge.save();
    return 0;
  }
  if (a.length === 5 && a[0] === "-j" && a[1] === "link" && a[2] === "show" && a[3] === "dev") {
    const link = links[a[4]!];
    if (!link) {
      await write(io.stderr, `Device "${a[4]}" does not exist.\n`);
      return 1;
    }
    const wgLink = link.kind === "wireguard";
    const flags = wgLink
      ? ["POINTOPOINT", "MULTICAST", "NOARP", ...(link.up ? ["UP", "LOWER_UP"] : [])]
      : ["BROADCAST", "NOARP", "UP", "LOWER_UP"];
    const entry = {
      ifindex: link.ifindex,
      ifname: a[4],
      flags,
      mtu: wgLink ? 1420 : 1500,
      qdisc: wgLink ? (link.up ? "fq_codel" : "noop") : "noqueue",
      operstate: wgLink ? (link.up ? "UNKNOWN" : "DOWN") : "UNKNOWN",
      linkmode: "DEFAULT",
      group: "default",
      txqlen: wgLink ? 500 : 1000,
      link_type: wgLink ? "none" : "ether",
    };
    await write(io.stdout, JSON.stringify([entry]) + "\n");
    return 0;
  }
  if (a.length === 5 && a[0] === "link" && a[1] === "set" && a[2] === "dev" && a[4] === "up") {
    const link = links[a[3]!];
    if (!link) return noDevice(a[3]!);
    link.up = true;
    await edge.save();
    return 0;
  }
  if (a.length === 4 && a[0] === "link" && a[1] === "del" && a[2] === "dev") {
    const dev = a[3]!;
    if (!links[dev]) return noDevice(dev);
    delete links[dev];
    // A wireguard-go device's process ends with it; its routes go with the link.
    if (edge.data.wireguard) delete edge.data.wireguard[dev];
    for (const [t, routes] of Object.entries(edge.data.routes ?? {}))
      edge.data.routes![t] = routes.filter((r) => r.dev !== dev);
    await edge.save();
    return 0;
  }
  if (
    a.length === 7 &&
    a[0] === "route" &&
    a[1] === "replace" &&
    a[3] === "dev" &&
    a[5] === "table" &&
    CIDR_RE.test(a[2]!) &&
    /^\d+$/.test(a[6]!)
  ) {
    if (!links[a[4]!]) return noDevice(a[4]!);
    const routes = ((edge.data.routes ??= {})[a[6]!] ??= []);
    const i = routes.findIndex((r) => r.dst === a[2]);
    if (i >= 0) routes[i] = { dst: a[2]!, dev: a[4]! };
    else routes.push({ dst: a[2]!, dev: a[4]! });
    await edge.save();
    return 0;
  }
  if (
    a.length === 5 &&
    a[0] === "-j" &&
    a[1] === "route" &&
    a[2] === "show" &&
    a[3] === "table" &&
    /^\d+$/.test(a[4]!)
  ) {
    const routes = edge.data.routes?.[a[4]!] ?? [];
    if (routes.length === 0) {
      await write(io.stderr, "Error: ipv4: FIB table does not exist.\nDump terminated\n");
      return 2;
    }
    await write(
      io.stdout,
      JSON.stringify(routes.map((r) => ({ dst: r.dst, dev: r.dev, scope: "link", flags: [] }))) + "\n",
    );
    return 0;
  }
  if (a.length === 5 && a[0] === "route" && a[1] === "del" && a[3] === "table" && /^\d+$/.test(a[4]!)) {
    const routes = edge.data.routes?.[a[4]!] ?? [];
    if (!routes.some((r) => r.dst === a[2])) {
      await write(io.stderr, "RTNETLINK answers: No such process\n");
      return 2;
    }
    edge.data.routes![a[4]!] = routes.filter((r) => r.dst !== a[2]);
    await edge.save();
    return 0;
  }
  if (a.length === 3 && a[0] === "-j" && a[1] === "rule" && a[2] === "show") {
    const mine = [...(edge.data.rules ?? [])].sort((x, y) => x.priority - y.priority);
    const all = [
      { priority: 0, src: "all", table: "local" },
      ...mine,
      { priority: 32766, src: "all", table: "main" },
      { priority: 32767, src: "all", table: "default" },
    ];
    await write(io.stdout, JSON.stringify(all) + "\n");
    return 0;
  }
  // `ip rule add from A [iif IF] lookup T pref P`
  const iif = a[4] === "iif" ? a[5]! : null;
  const r = iif ? [...a.slice(0, 4), ...a.slice(6)] : a;
  if (
    r.length === 8 &&
    r[0] === "rule" &&
    r[1] === "add" &&
    r[2] === "from" &&
    r[4] === "lookup" &&
    r[6] === "pref" &&
    ADDRESS_RE.test(r[3]!) &&
    /^\d+$/.test(r[5]!) &&
    /^\d+$/.test(r[7]!)
  ) {
    const rules = (edge.data.rules ??= []);
    const rule = { priority: Number(r[7]), src: r[3]!, table: r[5]!, ...(iif ? { iif } : {}) };
    if (
      rules.some(
        (x) => x.priority === rule.priority && x.src === rule.src && x.iif === rule.iif && x.table === rule.table,
      )
    ) {
      await write(io.stderr, "RTNETLINK answers: File exists\n");
      return 2;
    }
    rules.push(rule);
    await edge.save();
    return 0;
  }
  if (
    a[0] === "rule" &&
    a[1] === "del" &&
    ((a.length === 4 && a[2] === "pref") || (a.length === 6 && a[2] === "from" && a[4] === "pref"))
  ) {
    const rules = (edge.data.rules ??= []);
    const pref = Number(a.at(-1));
    const src = a.length === 6 ? a[3] : undefined;
    const i = rules.findIndex((r) => r.priority === pref && (src === undefined || r.src === src));
    if (i < 0) {
      await write(io.stderr, "RTNETLINK answers: No such file or directory\n");
      return 2;
    }
    rules.splice(i, 1);
    await edge.save();
    return 0;
  }
  if (a.length === 5 && a[0] === "addr" && a[1] === "replace" && a[3] === "dev" && CIDR_RE.test(a[2]!)) {
    const link = links[a[4]!];
    if (!link) return noDevice(a[4]!);
    if (!link.addresses.includes(a[2]!)) link.addresses = [...link.addresses, a[2]!];
    await edge.save();
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
