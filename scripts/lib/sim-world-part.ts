import type { ChildProcess } from "node:child_process";
import type { EdgeView, HostDomains, SimWorldCommand, SimWorldMessage } from "../sim-world";
import { nodeChild, type Part } from "./supervisor";

type Command = SimWorldCommand extends infer C ? (C extends { id: number } ? Omit<C, "id"> : never) : never;

/**
 * The sim world (scripts/sim-world.ts) as a supervised part: ready once its lab and edges
 * serve; `command` asks the running one to inject a fault or read its hosts' domains.
 */
export function simWorldPart(opts: {
  env: NodeJS.ProcessEnv;
  onReady: (m: { edgeManifest: string; edges: number }) => void;
  output?: number;
}): Part & {
  command<T = unknown>(c: Command): Promise<T>;
  domains(): Promise<HostDomains[]>;
  edges(): Promise<EdgeView[]>;
} {
  let proc: ChildProcess | null = null;
  let next = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const part = nodeChild("sim lab", ["--import", "tsx", "scripts/sim-world.ts"], {
    env: opts.env,
    output: opts.output,
    onSpawn: (p) => {
      proc = p;
      p.on("message", (m: SimWorldMessage) => {
        if (!("reply" in m)) return;
        const w = waiting.get(m.reply);
        waiting.delete(m.reply);
        if (m.error !== undefined) w?.reject(new Error(m.error));
        else w?.resolve(m.result);
      });
      // A sim world that died answers nothing more.
      p.once("exit", () => {
        for (const w of waiting.values()) w.reject(new Error("the sim lab stopped"));
        waiting.clear();
      });
    },
    ready: (p) =>
      new Promise((resolve, reject) => {
        p.on("message", (m: SimWorldMessage) => {
          if ("error" in m && !("reply" in m)) return reject(new Error(m.error));
          if ("ready" in m) {
            opts.onReady(m);
            resolve();
          }
        });
      }),
  });
  function command<T>(c: Command): Promise<T> {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null || !p.connected)
      return Promise.reject(new Error("the sim lab is not running"));
    const id = next++;
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      p.send({ ...c, id } satisfies SimWorldCommand as SimWorldCommand);
    });
  }
  return {
    ...part,
    command,
    domains: () => command<HostDomains[]>({ do: "domains" }),
    edges: () => command<EdgeView[]>({ do: "edges" }),
  };
}
