import { z } from "zod";
import { OutputShapeError } from "./haproxy-output";

/** iproute2's `ip -j addr show dev IF` (Debian 12, iproute2 6.1): the IPv4 addresses with their prefix. */
const schema = z
  .array(
    z.object({
      ifname: z.string(),
      addr_info: z.array(z.object({ family: z.string(), local: z.string(), prefixlen: z.number().int() }).loose()),
    }).loose(),
  )
  .length(1);

export function parseAddrShow(output: string, ifname: string): { address: string; prefixlen: number }[] {
  let raw: unknown;
  try {
    raw = JSON.parse(output);
  } catch {
    throw new OutputShapeError("not JSON");
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new OutputShapeError(`unexpected shape: ${parsed.error.issues[0]?.message ?? ""}`);
  if (parsed.data[0]!.ifname !== ifname) throw new OutputShapeError(`listed interface ${parsed.data[0]!.ifname}, asked for ${ifname}`);
  return parsed.data[0]!.addr_info.filter((a) => a.family === "inet").map((a) => ({ address: a.local, prefixlen: a.prefixlen }));
}
