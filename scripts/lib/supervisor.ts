import { spawn, type ChildProcess } from "node:child_process";

/**
 * `npm start`'s supervisor: every long-running part (database, lab, oracle, DNS, web)
 * runs under it and is started again, with growing delays, when it dies; one part's
 * crash never stops the others. Ctrl-C stops them all, in reverse order of start.
 */

/** A part while it runs. */
export interface Running {
  /** Settles when the part dies on its own (not when stopped), with the reason in words. */
  exited: Promise<string>;
  stop(): Promise<void>;
}

export interface Part {
  name: string;
  /** Starts the part and resolves once it is ready; rejects when it cannot start. */
  start(attempt: number): Promise<Running>;
}

export interface RestartEvent {
  part: string;
  /** Why it died ("killed by SIGKILL", "exited with code 1"). */
  reason: string;
  /** Restarts since it last ran well. */
  inRow: number;
  delayMs: number;
  /** When it died. */
  at: Date;
}

export interface SupervisorOptions {
  log: (line: string) => void;
  /** The part died and will be started again after `delayMs`. */
  onDeath?: (e: RestartEvent) => void;
  /** The part runs again (after onDeath). */
  onRestarted?: (e: RestartEvent & { upAt: Date }) => void;
  /** First delay, doubled per death in a row up to maxDelayMs (defaults 1 s, 30 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A part that ran this long has recovered: its next death starts the delays over (default 60 s). */
  healthyAfterMs?: number;
}

/** The delay before the n-th restart in a row (n ≥ 1): base, 2·base, 4·base … capped. */
export function restartDelayMs(inRow: number, baseMs = 1000, maxMs = 30_000): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, inRow - 1));
}

export class Supervisor {
  private readonly parts: { part: Part; running: Running | null }[] = [];
  private stopping = false;
  private readonly wake = new Set<() => void>();

  constructor(private readonly opts: SupervisorOptions) {}

  /** Starts a part (its first start failing is the caller's error) and keeps it running. */
  async add(part: Part): Promise<void> {
    const entry = { part, running: await part.start(1) };
    this.parts.push(entry);
    void this.watch(entry);
  }

  private async watch(entry: { part: Part; running: Running | null }) {
    let inRow = 0;
    let startedAt = Date.now();
    for (;;) {
      const reason = await entry.running!.exited;
      if (this.stopping) return;
      const at = new Date();
      const healthyAfter = this.opts.healthyAfterMs ?? 60_000;
      inRow = Date.now() - startedAt >= healthyAfter ? 1 : inRow + 1;
      entry.running = null;
      for (;;) {
        const delayMs = restartDelayMs(inRow, this.opts.baseDelayMs, this.opts.maxDelayMs);
        const event: RestartEvent = { part: entry.part.name, reason, inRow, delayMs, at };
        this.opts.log(`The ${entry.part.name} ${reason}; starting it again in ${Math.round(delayMs / 100) / 10} s.`);
        this.opts.onDeath?.(event);
        await this.sleep(delayMs);
        if (this.stopping) return;
        try {
          entry.running = await entry.part.start(inRow + 1);
          startedAt = Date.now();
          this.opts.log(`The ${entry.part.name} runs again.`);
          this.opts.onRestarted?.({ ...event, upAt: new Date() });
          break;
        } catch (err) {
          inRow += 1;
          this.opts.log(`The ${entry.part.name} did not start: ${firstLine(err)}`);
        }
      }
    }
  }

  private sleep(ms: number) {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.wake.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wake.add(done);
    });
  }

  /** Parts that are down now (died, not yet running again). */
  down(): string[] {
    return this.parts.filter((p) => !p.running).map((p) => p.part.name);
  }

  /** Stops every part, the last started first. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const w of [...this.wake]) w();
    for (const entry of [...this.parts].reverse()) {
      await entry.running?.stop().catch((e: unknown) => this.opts.log(`Stopping the ${entry.part.name}: ${String(e)}`));
    }
  }
}

/** How a child process ended, in words. */
export function exitReason(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

/**
 * A Node.js child process as a part: `args` run with this Node; `ready` (optional) waits
 * until it serves (an HTTP probe, an IPC message); stopping sends SIGTERM, then SIGKILL
 * after `killAfterMs`.
 */
export function nodeChild(
  name: string,
  args: string[],
  opts: {
    env: NodeJS.ProcessEnv;
    ready?: (proc: ChildProcess) => Promise<void>;
    killAfterMs?: number;
    onSpawn?: (proc: ChildProcess) => void;
    /** Where its stdout and stderr go (default: this process's). */
    output?: number;
  },
): Part {
  return {
    name,
    async start() {
      const proc = spawn(process.execPath, args, {
        env: opts.env,
        // Always a channel: a child ends when it closes (server/crash-log.ts endWithSupervisor).
        stdio: ["ignore", opts.output ?? "inherit", opts.output ?? "inherit", "ipc"],
      });
      let stopping = false;
      const ended = new Promise<string>((resolve) =>
        proc.once("exit", (code, signal) => resolve(exitReason(code, signal))),
      );
      const exited = ended.then((reason) => (stopping ? new Promise<string>(() => {}) : reason));
      opts.onSpawn?.(proc);
      const stop = async () => {
        stopping = true;
        if (proc.exitCode !== null || proc.signalCode !== null) return;
        proc.kill("SIGTERM");
        const t = setTimeout(() => proc.kill("SIGKILL"), opts.killAfterMs ?? 15_000);
        await ended;
        clearTimeout(t);
      };
      if (opts.ready) {
        // A child that dies before it is ready did not start.
        const died = ended.then((reason) => Promise.reject(new Error(`it ${reason} before it was ready`)));
        try {
          await Promise.race([opts.ready(proc), died]);
        } catch (err) {
          await stop();
          throw err;
        }
      }
      return { exited, stop };
    },
  };
}

/**
 * An error in one line of words: its first (Prisma's messages start with blank lines and
 * put the reason last, after "Invalid `prisma.x.y()` invocation:"; pg's may be empty).
 */
export function firstLine(err: unknown): string {
  const e = err as { message?: string; code?: string };
  const lines = (e?.message ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const line = lines[0]?.endsWith("invocation:") ? lines.at(-1) : lines[0];
  return line || e?.code || String(err);
}
