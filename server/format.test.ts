import { describe, expect, it } from "vitest";
import { numberRanges } from "./format";

describe("numberRanges", () => {
  it("writes runs of consecutive numbers as ranges", () => {
    expect(numberRanges([1, 2, 3, 4, 7, 9, 10])).toBe("1–4, 7, 9–10");
    expect(numberRanges([5])).toBe("5");
    expect(numberRanges([])).toBe("");
  });
});
