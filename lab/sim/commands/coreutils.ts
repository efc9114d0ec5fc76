import { createHash, type Hash } from "node:crypto";
import { open } from "node:fs/promises";
import { Writable, type Readable } from "node:stream";
import { asFsError, strerror, type FsError } from "../host-fs";
import type { Builtin, Io, SimContext } from "../context";
import { KILLED, SIGPIPE_STATUS } from "../context";
import { BrokenPipe, isBrokenPipe, pump, write } from "../streams";
import { parseArgs, q, UsageError, type ArgSpec, type ParsedArgs } from "./args";

/**
 * The coreutils (and util-linux flock) subset a sim host answers, with GNU's messages
 * and exit codes. Options outside that subset are refused the way GNU refuses unknown
 * ones, never silently ignored.
 */

type Body = (args: ParsedArgs, io: Io, ctx: SimContext) => Promise<number>;

/** Wraps a command body with usage errors, SIGPIPE and kill handling. */
function command(name: string, spec: ArgSpec, body: Body, usageStatus = 1): Builtin {
  return async (argv, io, ctx) => {
    let args: ParsedArgs;
    try {
      args = parseArgs(name, argv.slice(1), spec);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      await write(io.stderr, `${err.message}\nTry '${name} --help' for more information.\n`).catch(() => undefined);
      return usageStatus;
    }
    try {
      return await body(args, io, ctx);
    } catch (err) {
      if (ctx.signal.aborted) return KILLED;
      if (isBrokenPipe(err)) return SIGPIPE_STATUS;
      throw err;
    }
  };
}

const say = (io: Io, text: string) => write(io.stderr, text + "\n");
const path = (ctx: SimContext, p: string) => ctx.host.fs.virtual(p, ctx.cwd);

async function missingOperand(io: Io, name: string): Promise<number> {
  await say(io, `${name}: missing operand\nTry '${name} --help' for more information.`);
  return 1;
}

export const stat = command("stat", { values: ["c"], long: ["format="] }, async ({ options, operands }, io, ctx) => {
  const format = options.get("c") ?? options.get("format");
  if (operands.length === 0) return missingOperand(io, "stat");
  // GNU's -c directives the driver uses: %s (size), %n (name as given), %% (a '%').
  if (typeof format !== "string" || !/^(?:[^%]|%[sn%])*$/.test(format)) {
    await say(io, `stat: the sim host supports only -c formats made of %s, %n, %% and plain text`);
    return 1;
  }
  let status = 0;
  for (const file of operands) {
    try {
      const s = await ctx.host.fs.stat(path(ctx, file));
      await write(
        io.stdout,
        format.replace(/%([sn%])/g, (_, d: string) => (d === "s" ? String(s.size) : d === "n" ? file : "%")) + "\n",
      );
    } catch (err) {
      await say(io, `stat: cannot statx ${q(file)}: ${(err as FsError).message}`);
      status = 1;
    }
  }
  return status;
});

/**
 * `head -c BYTES`: that many bytes of stdin (fewer at its end) and not one more. GNU head
 * never reads past the count, so in `head -c 3 > a; cat > b` the rest of a pipe reaches
 * the next command; here the surplus of a chunk goes back to the stream for it.
 */
export const head = command("head", { values: ["c"], long: ["bytes="] }, async ({ options, operands }, io, ctx) => {
  const spec = options.get("c") ?? options.get("bytes");
  if (typeof spec !== "string" || (operands.length > 0 && (operands.length !== 1 || operands[0] !== "-"))) {
    await say(io, "head: the sim host supports only: head -c BYTES (of stdin)");
    return 1;
  }
  if (/^-|^\d+(?:b|[kKmMGTPEZYRQ](?:B|iB)?)$/.test(spec)) {
    // GNU's "all but the last N" and unit suffixes (1K, 2MiB): valid there, not offered here.
    await say(io, "head: the sim host supports only: head -c BYTES (of stdin)");
    return 1;
  }
  if (!/^\d+$/.test(spec) || !Number.isSafeInteger(Number(spec))) {
    await say(io, `head: invalid number of bytes: ${q(spec)}`);
    return 1;
  }
  try {
    await copyExactly(io.stdin, io.stdout, Number(spec), ctx.signal);
  } catch (err) {
    if (isBrokenPipe(err) || ctx.signal.aborted) throw err;
    await say(io, `head: write error: ${strerror((err as NodeJS.ErrnoException).code ?? "EIO")}`);
    return 1;
  }
  return ctx.signal.aborted ? KILLED : 0;
});

/** Copies at most `count` bytes from src to dst, reading nothing beyond them. */
async function copyExactly(src: Readable, dst: Writable, count: number, signal: AbortSignal): Promise<void> {
  let left = count;
  // Paused: bytes flow only when read here (a flowing stream would hand them to nobody).
  src.pause();
  while (left > 0) {
    if (signal.aborted) throw new BrokenPipe();
    let chunk = src.read() as Buffer | null;
    if (chunk === null) {
      if (src.readableEnded || src.destroyed) return;
      await new Promise<void>((resolve) => {
        const wake = () => {
          src.off("readable", wake);
          src.off("end", wake);
          src.off("close", wake);
          signal.removeEventListener("abort", wake);
          resolve();
        };
        src.on("readable", wake);
        src.on("end", wake);
        src.on("close", wake);
        signal.addEventListener("abort", wake);
      });
      continue;
    }
    if (chunk.length > left) {
      src.unshift(chunk.subarray(left));
      chunk = chunk.subarray(0, left);
    }
    left -= chunk.length;
    await write(dst, chunk);
  }
}

export const sha256sum = command("sha256sum", {}, async ({ operands }, io, ctx) => {
  let status = 0;
  for (const file of operands.length ? operands : ["-"]) {
    try {
      const hash = createHash("sha256");
      if (file === "-") await pump(io.stdin, hashSink(hash), ctx.signal);
      else {
        const s = await ctx.host.fs.stat(path(ctx, file));
        if (s.isDirectory()) throw asFsError({ code: "EISDIR" }, file);
        for await (const chunk of ctx.host.fs.readStream(path(ctx, file))) {
          if (ctx.signal.aborted) return KILLED;
          hash.update(chunk as Buffer);
        }
      }
      await write(io.stdout, `${hash.digest("hex")}  ${file}\n`);
    } catch (err) {
      if (isBrokenPipe(err) || ctx.signal.aborted) throw err;
      await say(io, `sha256sum: ${file}: ${asFsError(err, file).message}`);
      status = 1;
    }
  }
  return status;
});

export const df = command("df", { values: ["B"], long: ["output="] }, async ({ options, operands }, io, ctx) => {
  if (options.get("B") !== "1" || options.get("output") !== "avail,size" || operands.length !== 1) {
    await say(io, "df: the sim host supports only: df -B1 --output=avail,size -- DIR");
    return 1;
  }
  const dir = operands[0]!;
  try {
    await ctx.host.fs.stat(path(ctx, dir));
  } catch (err) {
    await say(io, `df: ${dir}: ${(err as FsError).message}`);
    return 1;
  }
  const { availableBytes, sizeBytes } = await ctx.host.fs.diskSpace();
  // GNU df right-aligns each column to its widest cell, one space apart.
  const cols: [string, string][] = [
    ["Avail", String(availableBytes)],
    ["1B-blocks", String(sizeBytes)],
  ];
  const widths = cols.map(([h, v]) => Math.max(h.length, v.length));
  await write(
    io.stdout,
    cols.map(([h], i) => h.padStart(widths[i]!)).join(" ") +
      "\n" +
      cols.map(([, v], i) => v.padStart(widths[i]!)).join(" ") +
      "\n",
  );
  return 0;
});

export const rm = command("rm", { flags: ["f"] }, async ({ options, operands }, io, ctx) => {
  if (operands.length === 0) return options.has("f") ? 0 : missingOperand(io, "rm");
  let status = 0;
  for (const file of operands) {
    try {
      await ctx.host.fs.remove(path(ctx, file));
    } catch (err) {
      const e = err as FsError;
      if (e.code === "ENOENT" && options.has("f")) continue;
      await say(io, `rm: cannot remove ${q(file)}: ${e.message}`);
      status = 1;
    }
  }
  return status;
});

export const mv = command("mv", { flags: ["f"] }, async ({ operands }, io, ctx) => {
  if (operands.length !== 2) return missingOperand(io, "mv");
  const [from, to] = operands as [string, string];
  try {
    await ctx.host.fs.stat(path(ctx, from));
  } catch (err) {
    await say(io, `mv: cannot stat ${q(from)}: ${(err as FsError).message}`);
    return 1;
  }
  try {
    await ctx.host.fs.rename(path(ctx, from), path(ctx, to));
    return 0;
  } catch (err) {
    await say(io, `mv: cannot move ${q(from)} to ${q(to)}: ${(err as FsError).message}`);
    return 1;
  }
});

/** `cp [--sparse=always] -- FROM TO`: one file. */
export const cp = command("cp", { long: ["sparse="] }, async ({ operands }, io, ctx) => {
  if (operands.length !== 2) return missingOperand(io, "cp");
  const [from, to] = operands as [string, string];
  try {
    await ctx.host.fs.stat(path(ctx, from));
  } catch (err) {
    await say(io, `cp: cannot stat ${q(from)}: ${(err as FsError).message}`);
    return 1;
  }
  try {
    await ctx.host.fs.copy(path(ctx, from), path(ctx, to));
    return 0;
  } catch (err) {
    await say(io, `cp: cannot create regular file ${q(to)}: ${(err as FsError).message}`);
    return 1;
  }
});

export const mkdir = command("mkdir", { flags: ["p"] }, async ({ options, operands }, io, ctx) => {
  if (operands.length === 0) return missingOperand(io, "mkdir");
  if (!options.has("p")) {
    await say(io, "mkdir: the sim host supports only mkdir -p");
    return 1;
  }
  let status = 0;
  for (const dir of operands) {
    try {
      await ctx.host.fs.mkdirp(path(ctx, dir));
    } catch (err) {
      await say(io, `mkdir: cannot create directory ${q(dir)}: ${(err as FsError).message}`);
      status = 1;
    }
  }
  return status;
});

/** `sync [-d] -- FILE`: fsync (with -d: fdatasync) that file, as GNU sync does with operands. */
export const sync = command("sync", { flags: ["d"], long: ["data"] }, async ({ options, operands }, io, ctx) => {
  const dataOnly = options.has("d") || options.has("data");
  if (dataOnly && operands.length === 0) {
    await say(io, "sync: --data needs at least one argument");
    return 1;
  }
  let status = 0;
  for (const file of operands) {
    try {
      const handle = await open(ctx.host.fs.real(path(ctx, file)), "r");
      try {
        await (dataOnly ? handle.datasync() : handle.sync());
      } finally {
        await handle.close();
      }
    } catch (err) {
      await say(io, `sync: error opening ${q(file)}: ${asFsError(err, file).message}`);
      status = 1;
    }
  }
  return status;
});

/** `tail -c +N -- FILE`: the file from byte N (1-based). */
export const tail = command("tail", { values: ["c"] }, async ({ options, operands }, io, ctx) => {
  const spec = options.get("c");
  const m = typeof spec === "string" ? /^\+(\d+)$/.exec(spec) : null;
  if (!m || operands.length !== 1) {
    await say(io, "tail: the sim host supports only: tail -c +N -- FILE");
    return 1;
  }
  const file = operands[0]!;
  try {
    const s = await ctx.host.fs.stat(path(ctx, file));
    if (s.isDirectory()) throw asFsError({ code: "EISDIR" }, file);
  } catch (err) {
    await say(io, `tail: cannot open ${q(file)} for reading: ${asFsError(err, file).message}`);
    return 1;
  }
  const start = Math.max(0, Number(m[1]) - 1);
  await pump(ctx.host.fs.readStream(path(ctx, file), start), io.stdout, ctx.signal);
  return ctx.signal.aborted ? KILLED : 0;
});

export const cat = command("cat", {}, async ({ operands }, io, ctx) => {
  let status = 0;
  for (const file of operands.length ? operands : ["-"]) {
    if (file !== "-") {
      try {
        const s = await ctx.host.fs.stat(path(ctx, file));
        if (s.isDirectory()) throw asFsError({ code: "EISDIR" }, file);
      } catch (err) {
        await say(io, `cat: ${file}: ${asFsError(err, file).message}`);
        status = 1;
        continue;
      }
    }
    const src = file === "-" ? io.stdin : ctx.host.fs.readStream(path(ctx, file));
    try {
      await pump(src, io.stdout, ctx.signal);
    } catch (err) {
      if (isBrokenPipe(err) || ctx.signal.aborted) throw err;
      // The source was checked above, so what fails here is the write (e.g. a full disk).
      await say(io, `cat: write error: ${strerror((err as NodeJS.ErrnoException).code ?? "EIO")}`);
      return 1;
    }
  }
  return ctx.signal.aborted ? KILLED : status;
});

export const truncate = command(
  "truncate",
  { values: ["s"], long: ["size="] },
  async ({ options, operands }, io, ctx) => {
    const size = options.get("s") ?? options.get("size");
    if (typeof size !== "string" || !/^\d+$/.test(size)) {
      await say(io, "truncate: the sim host supports only: truncate -s BYTES -- FILE");
      return 1;
    }
    if (operands.length === 0) return missingOperand(io, "truncate");
    for (const file of operands) {
      try {
        await ctx.host.fs.truncate(path(ctx, file), Number(size));
      } catch (err) {
        await say(io, `truncate: cannot open ${q(file)} for writing: ${(err as FsError).message}`);
        return 1;
      }
    }
    return 0;
  },
);

/** `nice [-n N] COMMAND [ARG]...`: the sim has no CPU contention to yield to. */
export const nice = command(
  "nice",
  { values: ["n"], stopAtOperand: true },
  async ({ options, operands }, io, ctx) => {
    const n = options.get("n");
    if (n !== undefined && !/^-?\d+$/.test(String(n))) {
      await say(io, `nice: invalid adjustment ${q(String(n))}`);
      return 125;
    }
    if (operands.length === 0) return missingOperand(io, "nice");
    return ctx.exec(operands, io, { notFound: (name) => `nice: '${name}': No such file or directory` });
  },
  125,
);

/** `env [NAME=VALUE]... COMMAND [ARG]...` */
export const env: Builtin = async (argv, io, ctx) => {
  const vars: Record<string, string> = {};
  let i = 1;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(a);
    if (m) vars[m[1]!] = m[2]!;
    else if (a.startsWith("-")) {
      await say(io, `env: the sim host does not support option ${q(a)}`);
      return 125;
    } else break;
  }
  if (i >= argv.length) {
    for (const [k, v] of Object.entries({ ...ctx.env, ...vars })) await write(io.stdout, `${k}=${v}\n`);
    return 0;
  }
  return ctx.exec(argv.slice(i), io, {
    env: { ...ctx.env, ...vars },
    notFound: (name) => `env: '${name}': No such file or directory`,
  });
};

/**
 * `flock -n [-E CODE] [--] FILE COMMAND [ARG]...` or `… FILE -c COMMAND_LINE`: one holder
 * per file on this host; a busy lock exits with CODE at once.
 */
export const flock = command(
  "flock",
  { flags: ["n"], values: ["E"], stopAtOperand: true },
  async ({ options, operands }, io, ctx) => {
    const [file, ...cmd] = operands;
    const line = cmd[0] === "-c" ? cmd[1] : undefined;
    if (
      !options.has("n") ||
      file === undefined ||
      cmd.length === 0 ||
      (cmd[0] === "-c" && (line === undefined || cmd.length !== 2))
    ) {
      await say(io, "flock: the sim host supports only: flock -n [-E CODE] FILE {COMMAND [ARG]... | -c COMMAND_LINE}");
      return 64;
    }
    const conflict = Number(options.get("E") ?? 1);
    const key = path(ctx, file);
    try {
      if (!(await ctx.host.fs.exists(key))) await ctx.host.fs.truncate(key, 0);
    } catch (err) {
      await say(io, `flock: cannot open lock file ${file}: ${(err as FsError).message}`);
      return 66;
    }
    if (ctx.host.locks.has(key)) return conflict;
    ctx.host.locks.add(key);
    try {
      return line === undefined
        ? await ctx.exec(cmd, io, { notFound: (name) => `flock: failed to execute ${name}: No such file or directory` })
        : await ctx.shell(line, io);
    } finally {
      ctx.host.locks.delete(key);
    }
  },
  64,
);

function hashSink(hash: Hash): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done();
    },
  });
}
