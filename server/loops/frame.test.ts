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
});
