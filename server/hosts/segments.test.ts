import { describe, expect, it } from "vitest";
import { segmentInterface, segmentLabel } from "./segments";

describe("owner segments", () => {
  it("name a segment's interface by its number, a VLAN id", () => {
    expect(segmentInterface(1)).toBe("vmxs1");
    expect(segmentInterface(4094)).toBe("vmxs4094");
    expect(() => segmentInterface(0)).toThrow(/segment/);
    expect(() => segmentInterface(4095)).toThrow(/1 to 4094/);
    expect(() => segmentInterface(2.5)).toThrow(/segment/);
  });

  it("record how the edge reaches the segment", () => {
    expect(segmentLabel({ interface: "vmxs7", mechanism: "vlan", vlanId: 7 })).toBe("vlan:7");
    expect(segmentLabel({ interface: "vmxs7", mechanism: "bridge" })).toBe("bridge:vmxs7");
  });
});
