import { PassThrough, type Writable } from "node:stream";
import {
  cat,
  cp,
  df,
  env,
  flock,
  head,
  mkdir,
  mv,
  nice,
  rm,
  sha256sum,
  stat,
  sync,
  tail,
  truncate,
} from "./commands/coreutils";
import { ping } from "./commands/ping";
import { haproxySocat as socat, ip, nft, umask, wg, wireguardGo } from "./edge/commands";
import { ssh } from "./commands/ssh";
import { virsh } from "./commands/virsh";
import type { Builtin, Io, SimContext, SimHostRuntime } from "./context";
import { KILLED } from "./context";
import type { FsError } from "./host-fs";
import { parseLine, ShellSyntaxError, type SimpleCommand } from "./shell-parse";
import { write } from "./streams";

/** Every program a sim host has; anything else is "command not found" (127). */
const PROGRAMS: Record<string, Builtin> = {
  cat,
  cp,
  df,
  env,
  flock,
  head,
  ip,
  mkdir,
  mv,
  nft,
  nice,
  ping,
  rm,
  sha256sum,
  socat,
  ssh,
  stat,
  sync,
  tail,
  truncate,
  umask,
  virsh,
  wg,
  "wireguard-go": wireguardGo,
};

/**
 * The login shell of a sim host: runs one command line (what sshd hands to `bash -c`)
 * with the session's stdin/stdout/stderr and returns its exit status.
 */
export async function runCommandLine(line: string, io: Io, host: SimHostRuntime, signal: AbortSignal): Promise<number> {
  let items;
  try {
    items = parseLine(line);
  } catch (err) {
    if (!(err instanceof ShellSyntaxError)) throw err;
    await write(io.stderr, `bash: -c: line 1: ${err.message}\n`);
    return 2;
  }
  const ctx: SimContext = {
    host,
    env: {
      HOME: host.home,
      USER: host.user,
      LOGNAME: host.user,
      SHELL: "/bin/bash",
      PATH: "/usr/local/bin:/usr/bin:/bin",
    },
    cwd: host.home,
    signal,
    exec: (argv, cmdIo, options = {}) =>
      runProgram(argv, cmdIo, options.env ? { ...ctx, env: options.env } : ctx, options.notFound),
    shell: (child, cmdIo) => runCommandLine(child, cmdIo, host, signal),
  };
  let status = 0;
  for (const item of items) {
    if ((item.after === "&&" && status !== 0) || (item.after === "||" && status === 0)) continue;
    status = await runPipeline(item.pipeline, io, ctx);
    if (signal.aborted) return KILLED;
  }
  return status;
}

async function runPipeline(commands: SimpleCommand[], io: Io, ctx: SimContext): Promise<number> {
  const pipes = commands.slice(1).map(() => new PassThrough({ highWaterMark: 256 * 1024 }));
  const statuses = await Promise.all(
    commands.map(async (command, i) => {
      const stdin = i === 0 ? io.stdin : pipes[i - 1]!;
      const stdout = i === commands.length - 1 ? io.stdout : pipes[i]!;
      try {
        return await runSimple(command, { stdin, stdout, stderr: io.stderr }, ctx);
      } finally {
        // The reader is gone: later writes into this pipe fail (SIGPIPE for the writer).
        if (i > 0) pipes[i - 1]!.destroy();
        if (i < commands.length - 1) pipes[i]!.end();
      }
    }),
  );
  return statuses[statuses.length - 1]!;
}

async function runSimple(command: SimpleCommand, io: Io, ctx: SimContext): Promise<number> {
  const opened: Writable[] = [];
  const cmdIo = { ...io };
  try {
    for (const r of command.redirects) {
      const path = ctx.host.fs.virtual(r.target, ctx.cwd);
      try {
        if (r.op === "<") {
          await ctx.host.fs.stat(path);
          cmdIo.stdin = ctx.host.fs.readStream(path);
        } else {
          if (r.op === ">") await ctx.host.fs.truncate(path, 0);
          const out = await ctx.host.fs.appendStream(path);
          opened.push(out);
          cmdIo.stdout = out;
        }
      } catch (err) {
        await write(io.stderr, `bash: ${r.target}: ${(err as FsError).message}\n`);
        return 1;
      }
    }
    if (command.words.length === 0) return 0;
    return await runProgram(command.words, cmdIo, ctx);
  } finally {
    for (const out of opened) await closeWritable(out);
  }
}

async function runProgram(
  argv: string[],
  io: Io,
  ctx: SimContext,
  notFound?: (name: string) => string,
): Promise<number> {
  const name = argv[0]!;
  const program = Object.hasOwn(PROGRAMS, name) ? PROGRAMS[name] : undefined;
  if (!program) {
    const message =
      notFound?.(name) ??
      (name.includes("/") ? `bash: ${name}: No such file or directory` : `bash: ${name}: command not found`);
    await write(io.stderr, message + "\n");
    return 127;
  }
  return program(argv, io, ctx);
}

function closeWritable(out: Writable): Promise<void> {
  if (out.destroyed || out.writableFinished) return Promise.resolve();
  return new Promise<void>((resolve) => {
    out.once("close", resolve);
    out.once("error", () => resolve());
    out.end();
  });
}
