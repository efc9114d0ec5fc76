import { describe, expect, it } from "vitest";
import { DemandTraceError, parseDemandTrace } from "./demand-trace";

const bad = (csv: string) => {
  try {
    parseDemandTrace(csv);
  } catch (error) {
    if (error instanceof DemandTraceError) return error.message;
    throw error;
  }
  return "parsed";
};

describe("parseDemandTrace", () => {
  it("groups rows by hour and service, adds rows at one place, fills hours without rows", () => {
    const t = parseDemandTrace(
      [
        "service,time,lat,lon,count",
        "web,2026-12-01T00:10:00Z,1.5,2.5,3",
        "web,2026-12-01T00:50:00Z,1.5,2.5,4",
        "api,2026-12-01T00:20:00,-10,20,1",
        "web,2026-12-01T02:00:00+00:00,1.5,2.5,5",
        "",
      ].join("\n"),
    );
    expect(t.services).toEqual(["api", "web"]);
    expect(t.hours.map((h) => new Date(h).toISOString())).toEqual([
      "2026-12-01T00:00:00.000Z",
      "2026-12-01T01:00:00.000Z",
      "2026-12-01T02:00:00.000Z",
    ]);
    expect(t.demand[0]!.get("web")).toEqual([{ lat: 1.5, lon: 2.5, requests: 7 }]);
    expect(t.demand[0]!.get("api")).toEqual([{ lat: -10, lon: 20, requests: 1 }]);
    expect(t.demand[1]!.size).toBe(0);
    expect(t.demand[2]!.get("web")).toEqual([{ lat: 1.5, lon: 2.5, requests: 5 }]);
  });

  it("names the line and the reason of every bad row", () => {
    const head = "time,service,lat,lon,count\n";
    expect(bad("time,service,lat,count\n")).toBe("line 1: header lacks lon (needs time,service,lat,lon,count)");
    expect(bad(`${head}yesterday,web,1,2,3\n`)).toBe('line 2: time "yesterday" is not an ISO-8601 time');
    expect(bad(`${head}2026-12-01T00:00Z,web,1,2,3\n2026-12-01T00:00Z,web,91,2,3\n`)).toBe(
      "line 3: lat 91 is outside -90..90",
    );
    expect(bad(`${head}2026-12-01T00:00Z,web,1,east,3\n`)).toBe('line 2: lon "east" is not a number');
    expect(bad(`${head}2026-12-01T00:00Z,web,1,2,-3\n`)).toBe(
      `line 2: count -3 is outside 0..${Number.MAX_SAFE_INTEGER}`,
    );
    expect(bad(`${head}2026-12-01T00:00Z,,1,2,3\n`)).toBe("line 2: service is empty");
    expect(bad(`${head}2026-12-01T00:00Z,web,1\n`)).toBe("line 2: 3 fields, the header has 5");
    expect(bad(head)).toBe("line 2: no demand rows");
  });
});
