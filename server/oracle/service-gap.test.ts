import { describe, expect, it } from "vitest";
import { serviceGap } from "./service-gap";

const at = (s: number) => new Date(Date.UTC(2026, 11, 7, 12, 0, s));

describe("serviceGap", () => {
  it("is the time from the drain's end to the bind's end", () => {
    const gap = serviceGap([
      { name: "drain", state: "DONE", finishedAt: at(1) },
      { name: "suspend", state: "DONE", finishedAt: at(2) },
      { name: "bind", state: "DONE", finishedAt: at(4) },
    ]);
    expect(gap).toEqual({ ms: 3000, from: at(1), to: at(4) });
  });

  it("reads timings from JSON (strings)", () => {
    expect(
      serviceGap([
        { name: "drain", state: "DONE", finishedAt: at(1).toISOString() },
        { name: "bind", state: "DONE", finishedAt: at(2).toISOString() },
      ])?.ms,
    ).toBe(1000);
  });

  it("is null until both ends are done, and without a drain (a skipped one served nothing)", () => {
    expect(
      serviceGap([
        { name: "drain", state: "DONE", finishedAt: at(1) },
        { name: "bind", state: "RUNNING", finishedAt: null },
      ]),
    ).toBeNull();
    expect(
      serviceGap([
        { name: "drain", state: "SKIPPED", finishedAt: at(1) },
        { name: "bind", state: "DONE", finishedAt: at(2) },
      ]),
    ).toBeNull();
    expect(serviceGap([{ name: "suspend", state: "DONE", finishedAt: at(1) }])).toBeNull();
  });
});
