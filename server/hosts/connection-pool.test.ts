import { afterEach, describe, expect, it } from "vitest";
import { ConnectionPool } from "./connection-pool";

/** A fake of the transport's side: links whose connection ends when the pool asks. */
function harness(max: number, idleCloseMs = 60_000) {
  let now = 1000;
  const releases = new Map<string, () => void>();
  const closed: string[] = [];
  const pool = new ConnectionPool<string>({
    max,
    idleCloseMs,
    now: () => now,
    close: (link) => {
      closed.push(link);
      // The connection's "close" arrives later, as a socket's does.
      queueMicrotask(() => releases.get(link)?.());
    },
  });
  const timeout = () => new Error("no room");
  return {
    pool,
    closed,
    advance: (ms: number) => (now += ms),
    async open(link: string, waitMs = 1000) {
      releases.set(link, await pool.reserve(now + waitMs, timeout));
    },
  };
}

let pools: ConnectionPool<string>[] = [];
afterEach(() => {
  for (const p of pools) p.stop();
  pools = [];
});

describe("ConnectionPool", () => {
  it("opens up to the cap at once", async () => {
    const h = harness(3);
    pools.push(h.pool);
    for (const l of ["a", "b", "c"]) await h.open(l);
    expect(h.pool.stats()).toEqual({ open: 3, idle: 0, waiting: 0 });
  });

  it("at the cap, closes the idle connection unused the longest to open a new one", async () => {
    const h = harness(2);
    pools.push(h.pool);
    await h.open("a");
    await h.open("b");
    h.pool.idle("a");
    h.advance(10);
    h.pool.idle("b");
    await h.open("c");
    expect(h.closed).toEqual(["a"]);
    expect(h.pool.stats()).toEqual({ open: 2, idle: 1, waiting: 0 });
  });

  it("never closes a connection in use: a new one waits until one becomes idle", async () => {
    const h = harness(1);
    pools.push(h.pool);
    await h.open("a");
    let opened = false;
    const c = h.open("c").then(() => (opened = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(opened).toBe(false);
    expect(h.pool.stats().waiting).toBe(1);
    h.pool.idle("a");
    await c;
    expect(h.closed).toEqual(["a"]);
    expect(h.pool.stats()).toEqual({ open: 1, idle: 0, waiting: 0 });
  });

  it("gives up waiting at the deadline", async () => {
    const h = harness(1);
    pools.push(h.pool);
    await h.open("a");
    await expect(h.open("b", 30)).rejects.toThrow("no room");
    expect(h.pool.stats()).toEqual({ open: 1, idle: 0, waiting: 0 });
  });

  it("closes connections idle for idleCloseMs, the oldest first, and keeps the busy and the recent", async () => {
    const h = harness(10, 1000);
    pools.push(h.pool);
    for (const l of ["a", "b", "c", "d"]) await h.open(l);
    h.pool.idle("a");
    h.advance(400);
    h.pool.idle("b");
    h.pool.idle("c");
    h.pool.busy("c"); // a command started on it again
    h.advance(700);
    h.pool.sweep();
    expect(h.closed).toEqual(["a"]);
    h.advance(400);
    h.pool.sweep();
    expect(h.closed).toEqual(["a", "b"]);
    await new Promise((r) => setTimeout(r, 0));
    expect(h.pool.stats()).toEqual({ open: 2, idle: 0, waiting: 0 });
  });

  it("an idle connection used again starts its idle time afresh", async () => {
    const h = harness(10, 1000);
    pools.push(h.pool);
    await h.open("a");
    h.pool.idle("a");
    h.advance(900);
    h.pool.busy("a");
    h.pool.idle("a");
    h.advance(900);
    h.pool.sweep();
    expect(h.closed).toEqual([]);
  });
});
