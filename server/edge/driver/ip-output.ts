import { z } from "zod";
import { OutputShapeError } from "./haproxy-output";

/** A command's JSON output (iproute2's `-j`) read against a schema; anything else is an OutputShapeError. */
export function parseJsonAs<T>(output: string, schema: z.ZodType<T>): T {
  let raw: unknown;
  try {
    raw = JSON.parse(output);
  } catch {
    throw new OutputShapeError("not JSON");
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new OutputShapeError(`unexpected shape: ${parsed.error.issues[0]?.message ?? ""}`);
  return parsed.data;
}

/** iproute2's `ip -j addr show dev IF` (Debian 12, iproute2 6.1): the IPv4 addresses with their prefix. */
const schema = z
  .array(
    z
      .object({
        ifname: z.string(),
        addr_info: z.array(z.object({ family: z.string(), local: z.string(), prefixlen: z.number().int() }).loose()),
      })
      .loose(),
  )
  .length(1);

export function parseAddrShow(output: string, ifname: string): { address: string; prefixlen: number }[] {
  const data = parseJsonAs(output, schema);
  if (data[0]!.ifname !== ifname)
    throw new OutputShapeError(`listed interface ${data[0]!.ifname}, asked for ${ifname}`);
  return data[0]!.addr_info
    .filter((a) => a.family === "inet")
    .map((a) => ({ address: a.local, prefixlen: a.prefixlen }));
}

/** `ip -j -d link show dev IF`: what kind of link it is (veth, bridge, vlan with its 802.1Q id, …) and whether it is up. */
const linkSchema = z
  .array(
    z
      .object({
        ifname: z.string(),
        operstate: z.string(),
        linkinfo: z
          .object({
            info_kind: z.string(),
            info_data: z
              .object({ protocol: z.string().optional(), id: z.number().int().optional() })
              .loose()
              .optional(),
          })
          .loose()
          .optional(),
      })
      .loose(),
  )
  .length(1);

export interface LinkDetail {
  kind: string | null;
  /** The 802.1Q id when the link is a VLAN. */
  vlanId: number | null;
  up: boolean;
}

export function parseLinkDetail(output: string, ifname: string): LinkDetail {
  const data = parseJsonAs(output, linkSchema);
  const link = data[0]!;
  if (link.ifname !== ifname) throw new OutputShapeError(`listed interface ${link.ifname}, asked for ${ifname}`);
  const kind = link.linkinfo?.info_kind ?? null;
  const vlanId = kind === "vlan" ? (link.linkinfo?.info_data?.id ?? null) : null;
  if (kind === "vlan" && vlanId === null) throw new OutputShapeError(`${ifname} is a VLAN link without an id`);
  // A veth whose peer is down says LOWERLAYERDOWN; UNKNOWN is what links without carrier detection say.
  return { kind, vlanId, up: link.operstate === "UP" || link.operstate === "UNKNOWN" };
}

/** `ip -j route show table T`: each route's destination ("default" or a CIDR; a /32 is printed without its length). */
export function parseRouteDsts(output: string): string[] {
  const data = parseJsonAs(output, z.array(z.object({ dst: z.string() }).loose()));
  return data.map((r) => r.dst);
}
