import { describe, expect, it } from "vitest";
import type { Db } from "../db/client";
import type { HostDriver } from "../hosts/driver";
import type { log } from "../log";
import { runLoop } from "./frame";

describe("runLoop", () => {
  it("leaves a tick behind that does not end within its limit, says so, and goes on with the next", async () => {
    const said: string[] = [];
    const logger = {
      child: () => logger,
      error: (_o: object, msg: string) => said.push(`error: ${msg}`),
      warn: (_o: object, msg: string) => said.push(`warn: ${msg}`),
      debug: () => {},
    } as unknown as typeof log;
    let ticks = 0;
    const loop = runLoop(
      {
        name: "stuck",
        intervalMs: 10,
        tickLimitMs: 50,
        // The first tick never ends (a wait without an end of its own); the others do.
        tick: () => (++ticks === 1 ? new Promise<void>(() => {}) : Promise.resolve()),
      },
      { db: {} as Db, driver: {} as HostDriver, scope: async () => undefined, logger },
    );
    await new Promise((r) => setTimeout(r, 300));
    await loop.stop();
    expect(ticks).toBeGreaterThanOrEqual(3);
    expect(said).toEqual(["error: tick did not end within its limit: left behind, the loop goes on"]);
  });

  it("starts a fixed-rate loop's ticks a period apart, whatever each took, and a late one at once", async () => {
    const logger = { child: () => logger, debug: () => {} } as unknown as typeof log;
    const starts: number[] = [];
    const durations = [60, 10, 150, 10, 10];
    const loop = runLoop(
      {
        name: "rate",
        intervalMs: 100,
        fixedRate: true,
        tick: async () => {
          starts.push(Date.now());
          await new Promise((r) => setTimeout(r, durations[starts.length - 1] ?? 10));
        },
      },
      { db: {} as Db, driver: {} as HostDriver, scope: async () => undefined, logger },
    );
    await new Promise((r) => setTimeout(r, 430));
    await loop.stop();
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    // 100 after a 60 ms tick and a 10 ms one; 150 after the tick that outlasted the period.
    expect(gaps[0]).toBeGreaterThanOrEqual(95);
    expect(gaps[0]).toBeLessThan(140);
    expect(gaps[1]).toBeLessThan(140);
    expect(gaps[2]).toBeGreaterThanOrEqual(145);
    expect(gaps[2]).toBeLessThan(190);
  });
});
