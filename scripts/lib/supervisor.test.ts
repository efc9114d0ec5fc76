import type { ChildProcess } from "node:child_process";
import { describe, expect, it } from "vitest";
import { firstLine, nodeChild, restartDelayMs, Supervisor, type RestartEvent } from "./supervisor";

describe("restartDelayMs", () => {
  it("doubles per death in a row from the base, capped", () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => restartDelayMs(n))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(restartDelayMs(3, 50, 150)).toBe(150);
  });
});

describe("firstLine", () => {
  it("skips the blank lines Prisma starts its messages with, and falls back to the code", () => {
    expect(
      firstLine(
        new Error("\nInvalid `prisma.alert.create()` invocation:\n\n\nCan't reach database server at 127.0.0.1:5432"),
      ),
    ).toBe("Can't reach database server at 127.0.0.1:5432");
    expect(firstLine(new Error("\n\nport busy\nmore"))).toBe("port busy");
    expect(firstLine(Object.assign(new Error(""), { code: "ECONNREFUSED" }))).toBe("ECONNREFUSED");
  });
});

const until = async (check: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("Supervisor", () => {
  it("starts a part that died again, tells who died and why, and leaves the other parts running", async () => {
    const lines: string[] = [];
    const deaths: RestartEvent[] = [];
    const restarts: RestartEvent[] = [];
    const sup = new Supervisor({
      log: (l) => lines.push(l),
      onDeath: (e) => deaths.push(e),
      onRestarted: (e) => restarts.push(e),
      baseDelayMs: 30,
    });
    const pids: number[] = [];
    // A real child process that runs until it is killed, and says when it is up.
    const sleeper = (name: string) =>
      nodeChild(name, ["-e", "process.send('up'); setInterval(() => {}, 1000)"], {
        env: process.env,
        ready: (proc) => new Promise((resolve) => proc.once("message", () => resolve())),
        onSpawn: (proc) => pids.push(proc.pid!),
      });
    try {
      await sup.add(sleeper("steady"));
      await sup.add(sleeper("victim"));
      const [steady, victim] = pids;
      process.kill(victim!, "SIGKILL");
      await until(() => restarts.length === 1);
      expect(deaths).toMatchObject([{ part: "victim", reason: "was killed by SIGKILL", inRow: 1, delayMs: 30 }]);
      expect(restarts[0]).toMatchObject({ part: "victim" });
      expect(pids).toHaveLength(3);
      // The steady part never stopped; the restarted one is a live process.
      expect(() => process.kill(steady!, 0)).not.toThrow();
      expect(() => process.kill(pids[2]!, 0)).not.toThrow();
      // A second death soon after counts in a row: the delay doubles.
      process.kill(pids[2]!, "SIGKILL");
      await until(() => restarts.length === 2);
      expect(deaths[1]).toMatchObject({ part: "victim", inRow: 2, delayMs: 60 });
      expect(lines).toContain("The victim was killed by SIGKILL; starting it again in 0 s.");
    } finally {
      await sup.stop();
    }
    // Stopping ends every part and restarts none.
    for (const pid of pids.slice(0, 1).concat(pids.slice(-1))) expect(() => process.kill(pid, 0)).toThrow();
    expect(restarts).toHaveLength(2);
  });

  it("keeps trying a part that does not start again, with growing delays", async () => {
    let starts = 0;
    let die: (reason: string) => void = () => {};
    const delays: number[] = [];
    const lines: string[] = [];
    const sup = new Supervisor({ log: (l) => lines.push(l), baseDelayMs: 10, onDeath: (e) => delays.push(e.delayMs) });
    await sup.add({
      name: "flaky",
      async start() {
        starts += 1;
        if (starts === 2 || starts === 3) throw new Error("\nport busy");
        return { exited: new Promise<string>((r) => (die = r)), stop: async () => {} };
      },
    });
    die("exited with code 1");
    await until(() => starts === 4);
    await sup.stop();
    expect(delays).toEqual([10, 20, 40]);
    expect(lines.filter((l) => l === "The flaky did not start: port busy")).toHaveLength(2);
    expect(lines).toContain("The flaky runs again.");
  });
});

describe("a part whose supervisor is gone", () => {
  it("ends when the supervisor's channel closes (endWithSupervisor), and only then", async () => {
    // A real supervised part: it keeps a timer running and would live forever on its own.
    const script = [
      "import { endWithSupervisor } from './server/crash-log.ts';",
      "endWithSupervisor(() => { console.log('supervisor gone'); process.exit(0); });",
      "setInterval(() => {}, 1000);",
      "process.send('up');",
    ].join("\n");
    let proc: ChildProcess | undefined;
    const part = nodeChild("orphan-to-be", ["--import", "tsx", "--input-type=module", "-e", script], {
      env: process.env,
      ready: (p) => new Promise((resolve) => p.once("message", () => resolve())),
      onSpawn: (p) => (proc = p),
    });
    const sup = new Supervisor({ log: () => {}, onDeath: () => {}, onRestarted: () => {} });
    await sup.add(part);
    const exit = new Promise<number | null>((resolve) => proc!.once("exit", (code) => resolve(code)));
    await new Promise((r) => setTimeout(r, 300));
    expect(proc!.exitCode).toBeNull();
    // What the part sees when its supervisor is killed: the channel closes.
    proc!.disconnect();
    expect(await exit).toBe(0);
    await sup.stop();
  });
});
