import { describe, expect, it } from "vitest";
import { newClientRequests } from "./edge-counts";

describe("an edge's requests per client as demand", () => {
  it("counts what came since the mark, all of a remade entry, and leaves out clients with nothing new", () => {
    expect(
      newClientRequests([
        { address: "81.2.69.142", requests: 10, counted: 4 },
        { address: "1.0.16.1", requests: 3, counted: 0 },
        { address: "1.0.16.2", requests: 5, counted: 5 },
        { address: "1.0.16.3", requests: 2, counted: 9 },
      ]),
    ).toEqual([
      { address: "81.2.69.142", requests: 6 },
      { address: "1.0.16.1", requests: 3 },
      { address: "1.0.16.3", requests: 2 },
    ]);
  });
});
