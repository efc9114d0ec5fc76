import { describe, expect, it } from "vitest";
import { folderCycles, room } from "./folder-cycles";

describe("folder cycles under server/", () => {
  it("names a file's room: its top folder under server/, or the file itself", () => {
    expect(room("server/edge/driver/driver.ts")).toBe("server/edge/");
    expect(room("server/jobs/request.ts")).toBe("server/jobs/");
    expect(room("server/log.ts")).toBe("server/log.ts");
    expect(room("components/map/view.tsx")).toBeNull();
  });

  it("finds rooms that import each other through any path, and nothing in a layered graph", () => {
    const g = (pairs: [string, string][]) => {
      const m = new Map<string, Set<string>>();
      for (const [a, b] of pairs) {
        m.set(a, (m.get(a) ?? new Set()).add(b));
        if (!m.has(b)) m.set(b, new Set());
      }
      return m;
    };
    expect(
      folderCycles(
        g([
          ["api", "jobs"],
          ["jobs", "hosts"],
          ["api", "hosts"],
        ]),
      ),
    ).toEqual([]);
    expect(
      folderCycles(
        g([
          ["edge", "hosts"],
          ["hosts", "oracle"],
          ["oracle", "jobs"],
          ["jobs", "edge"],
          ["api", "jobs"],
        ]),
      ),
    ).toEqual([["edge", "hosts", "jobs", "oracle"]]);
    expect(
      folderCycles(
        g([
          ["a", "b"],
          ["b", "a"],
          ["c", "d"],
          ["d", "c"],
        ]),
      ),
    ).toHaveLength(2);
  });
});
