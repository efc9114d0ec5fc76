import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createReplicaTargetSaver, type ReplicaTargetValue } from "./replica-target-saver";

/** A server with the API's version check, whose answers the test releases one by one. */
function fakeServer(start: ReplicaTargetValue) {
  const state = { ...start };
  const writes: { desired: number; version: number }[] = [];
  const waiting: (() => void)[] = [];
  return {
    state,
    writes,
    /** Someone else sets the replica target. */
    otherOperator(desired: number) {
      state.desired = desired;
      state.version += 1;
    },
    save(_key: string, desired: number, version: number) {
      writes.push({ desired, version });
      return new Promise<ReplicaTargetValue>((resolve, reject) => {
        waiting.push(() => {
          if (version !== state.version) return reject(new Error(`Changed by someone else, now ${state.desired}`));
          state.desired = desired;
          state.version += 1;
          resolve({ ...state });
        });
      });
    },
    async answer() {
      const next = waiting.shift();
      if (!next) throw new Error("no write waiting");
      next();
      await vi.advanceTimersByTimeAsync(0);
    },
  };
}

function setup(start: ReplicaTargetValue = { desired: 0, version: 3 }) {
  const server = fakeServer(start);
  const shown: number[] = [];
  const settled: ReplicaTargetValue[] = [];
  const rejected: { message: string; rollbackTo: ReplicaTargetValue }[] = [];
  const saver = createReplicaTargetSaver({
    save: (k, d, v) => server.save(k, d, v),
    show: (_k, d) => shown.push(d),
    settled: (_k, c) => settled.push(c),
    rejected: (_k, e, r) => rejected.push({ message: (e as Error).message, rollbackTo: r }),
    delayMs: 300,
  });
  return { server, saver, shown, settled, rejected };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("saving a replica target", () => {
  it("shows every step at once and writes the value the operator settles on, once", async () => {
    const { server, saver, shown, settled } = setup();
    saver.change("tokyo", 1, { desired: 0, version: 3 });
    saver.change("tokyo", 2, { desired: 1, version: 3 });
    saver.change("tokyo", 3, { desired: 2, version: 3 });
    expect(shown).toEqual([1, 2, 3]);
    expect(server.writes).toEqual([]);
    expect(saver.pending("tokyo")).toBe(true);
    await vi.advanceTimersByTimeAsync(300);
    expect(server.writes).toEqual([{ desired: 3, version: 3 }]);
    await server.answer();
    expect(settled).toEqual([{ desired: 3, version: 4 }]);
    expect(saver.pending("tokyo")).toBe(false);
  });

  it("writes a turn made during a write after it, naming the version that write returned", async () => {
    const { server, saver, settled, rejected } = setup();
    saver.change("tokyo", 1, { desired: 0, version: 3 });
    await vi.advanceTimersByTimeAsync(300);
    saver.change("tokyo", 2, { desired: 1, version: 3 });
    await vi.advanceTimersByTimeAsync(300);
    // The second write waits for the first: one write of a replica target at a time.
    expect(server.writes).toHaveLength(1);
    await server.answer();
    expect(server.writes).toEqual([
      { desired: 1, version: 3 },
      { desired: 2, version: 4 },
    ]);
    expect(settled).toEqual([]);
    await server.answer();
    expect(rejected).toEqual([]);
    expect(settled).toEqual([{ desired: 2, version: 5 }]);
    expect(server.state).toEqual({ desired: 2, version: 5 });
  });

  it("rolls back to the last confirmed value when someone else changed the replica target first, and says so", async () => {
    const { server, saver, rejected, settled } = setup({ desired: 1, version: 7 });
    server.otherOperator(4);
    saver.change("tokyo", 2, { desired: 1, version: 7 });
    await vi.advanceTimersByTimeAsync(300);
    await server.answer();
    expect(rejected).toEqual([{ message: "Changed by someone else, now 4", rollbackTo: { desired: 1, version: 7 } }]);
    expect(settled).toEqual([]);
    expect(server.state).toEqual({ desired: 4, version: 8 });
    expect(saver.pending("tokyo")).toBe(false);
  });

  it("writes nothing when the replica target is turned back to where it was", async () => {
    const { server, saver, settled } = setup({ desired: 2, version: 1 });
    saver.change("tokyo", 3, { desired: 2, version: 1 });
    saver.change("tokyo", 2, { desired: 3, version: 1 });
    await vi.advanceTimersByTimeAsync(300);
    expect(server.writes).toEqual([]);
    expect(settled).toEqual([{ desired: 2, version: 1 }]);
  });

  it("keeps replica targets of different hosting networks apart", async () => {
    const { server, saver } = setup();
    saver.change("tokyo", 1, { desired: 0, version: 3 });
    saver.change("lima", 5, { desired: 0, version: 0 });
    expect(saver.pendingCount()).toBe(2);
    saver.flushAll();
    await vi.advanceTimersByTimeAsync(0);
    expect(server.writes).toEqual([
      { desired: 1, version: 3 },
      { desired: 5, version: 0 },
    ]);
  });
});
