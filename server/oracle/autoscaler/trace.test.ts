import { describe, expect, it } from "vitest";
import { parseTrace, TraceError } from "./trace";

function errorOf(text: string): { line: number; message: string } {
  try {
    parseTrace(text);
  } catch (error) {
    if (error instanceof TraceError) return { line: error.line, message: error.message };
    throw error;
  }
  throw new Error("parsed without error");
}

describe("parseTrace", () => {
  it("reads ISO-8601 times, aligns services and fills a missing row with 0", () => {
    const t = parseTrace(
      "time,service,demand\n2013-08-01T00:00:00Z,finance,1.5\n2013-08-01T00:00:00Z,sports,0.25\n2013-08-01T00:05:00Z,finance,2\n",
    );
    expect(t.timeFormat).toBe("iso");
    expect(t.times).toEqual([Date.UTC(2013, 7, 1, 0, 0), Date.UTC(2013, 7, 1, 0, 5)]);
    expect(t.services).toEqual(["finance", "sports"]);
    expect(t.demand).toEqual([
      [1.5, 2],
      [0.25, 0],
    ]);
  });

  it("reads seconds from the start, columns in any order, quotes, CRLF and a trailing blank line", () => {
    const t = parseTrace('service,demand,time,note\r\n"a, b",1,0,x\r\n"a, b",2,300.5,y\r\n\r\n');
    expect(t.timeFormat).toBe("seconds");
    expect(t.times).toEqual([0, 300_500]);
    expect(t.services).toEqual(["a, b"]);
    expect(t.demand).toEqual([[1, 2]]);
  });

  it("takes a zone-less ISO time as UTC", () => {
    const t = parseTrace("time,service,demand\n2013-08-01 00:00,s,1\n2013-08-01 01:00,s,1\n");
    expect(t.times[0]).toBe(Date.UTC(2013, 7, 1));
  });

  it.each([
    ["a missing column", "time,service,load\n0,s,1\n", 1, 'missing column "demand"'],
    ["negative demand", "time,service,demand\n0,s,1\n300,s,-0.5\n", 3, "demand -0.5 is negative"],
    ["a demand that is not a number", "time,service,demand\n0,s,1\n300,s,lots\n", 3, 'demand "lots" is not a number'],
    ["times out of order", "time,service,demand\n0,s,1\n600,s,1\n300,s,1\n", 4, "before the previous row's time"],
    [
      "a duplicate time for a service",
      "time,service,demand\n0,s,1\n0,t,1\n0,s,2\n300,s,1\n",
      4,
      'duplicate time "0" for service "s" (first on line 2)',
    ],
    [
      "mixed time formats",
      "time,service,demand\n0,s,1\n2013-08-01T00:00:00Z,s,1\n",
      3,
      "is ISO-8601 but earlier rows use seconds",
    ],
    ["an unreadable time", "time,service,demand\nyesterday,s,1\n", 2, 'time "yesterday" is neither ISO-8601'],
    ["a short row", "time,service,demand\n0,s\n", 2, "expected 3 fields, found 2"],
    ["an empty service", "time,service,demand\n0,,1\n", 2, "service is empty"],
    ["a single time", "time,service,demand\n0,s,1\n0,t,1\n", 3, "two or more times"],
    ["an unclosed quote", 'time,service,demand\n0,"s,1\n', 2, "unclosed quote"],
  ])("refuses %s, naming the line", (_, text, line, reason) => {
    const e = errorOf(text);
    expect(e.line).toBe(line);
    expect(e.message).toContain(`line ${line}: `);
    expect(e.message).toContain(reason);
  });
});
