import { describe, expect, it } from "vitest";
import { parseStatSizes } from "./stat-sizes";
import { OutputShapeError } from "./virsh-output";

describe("parseStatSizes", () => {
  const files = ["/vms/a.img", "/vms/b c.state", "/vms/missing"];

  it("maps each listed file to its size; a file stat did not list is absent", () => {
    const sizes = parseStatSizes("16777216 /vms/a.img\n0 /vms/b c.state\n", files);
    expect([...sizes]).toEqual([
      ["/vms/a.img", 16777216],
      ["/vms/b c.state", 0],
    ]);
  });

  it.each([
    ["a line without a size", "x /vms/a.img\n"],
    ["a file not asked about", "3 /vms/other\n"],
    ["the same file twice", "3 /vms/a.img\n3 /vms/a.img\n"],
    ["no final newline", "3 /vms/a.img"],
    ["a size beyond 2^53", "9007199254740993 /vms/a.img\n"],
    ["GNU's default format", "  File: /vms/a.img\n"],
  ])("refuses %s", (_, out) => {
    expect(() => parseStatSizes(out, files)).toThrow(OutputShapeError);
  });
});
