import { describe, expect, it } from "vitest";
import { OutputShapeError } from "./haproxy-output";
import { parseLinkDetail } from "./ip-output";

describe("ip -j -d link show dev IF", () => {
  it("tells a VLAN leg (with its 802.1Q id) from a veth into a bridge, and whether it is up", () => {
    // iproute2 6.1 on Debian 12, trimmed.
    const vlan =
      '[{"ifindex":9,"link":"eth1","ifname":"vmxs7","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"operstate":"UP","linkinfo":{"info_kind":"vlan","info_data":{"protocol":"802.1Q","id":7,"flags":["REORDER_HDR"]}}}]';
    const veth =
      '[{"ifindex":12,"link":"vxs2-a","ifname":"vmxs2","flags":["BROADCAST","MULTICAST","M-DOWN"],"mtu":1500,"operstate":"LOWERLAYERDOWN","linkinfo":{"info_kind":"veth"}}]';
    expect(parseLinkDetail(vlan, "vmxs7")).toEqual({ kind: "vlan", vlanId: 7, up: true });
    expect(parseLinkDetail(veth, "vmxs2")).toEqual({ kind: "veth", vlanId: null, up: false });
    expect(() => parseLinkDetail(vlan, "vmxs8")).toThrow(/asked for vmxs8/);
    expect(() =>
      parseLinkDetail('[{"ifname":"vmxs7","operstate":"UP","linkinfo":{"info_kind":"vlan"}}]', "vmxs7"),
    ).toThrow(/without an id/);
    expect(() => parseLinkDetail('Device "vmxs7" does not exist.', "vmxs7")).toThrow(OutputShapeError);
  });
});
