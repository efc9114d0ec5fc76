import { describe, expect, it } from "vitest";
import { matchDnsName } from "./address";

describe("a match's DNS name", () => {
  it("is match-<id> in the zone, lower case, without the root dot", () => {
    expect(matchDnsName("cmAbc123", "vmatrix.test.")).toBe("match-cmabc123.vmatrix.test");
  });
});
