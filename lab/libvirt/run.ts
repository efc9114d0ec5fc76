import { spawn } from "node:child_process";

/**
 * Running programs for the lab. Every program gets an argument vector, never a shell
 * line, so no file name or host name can change what runs. The only shell lines the lab
 * builds are the remote commands sent over ssh (see `shQuote`), and those quote every word.
 */

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunOptions {
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  /** Kill the program after this many milliseconds (default: no limit). */
  timeoutMs?: number;
  /** Return a failing result instead of throwing. */
  allowFailure?: boolean;
}

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: RunResult,
  ) {
    const why = result.signal ? `killed by ${result.signal}` : `exit code ${result.code}`;
    const detail = (result.stderr || result.stdout).trim().split("\n").slice(-6).join("\n");
    super(`${argv.join(" ")} failed (${why})${detail ? `:\n${detail}` : ""}`);
  }
}

export function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: opts.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs) : undefined;
    child.on("error", (e) => {
      if (timer) clearTimeout(timer);
      reject(new Error(`cannot run ${file}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      const result = {
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        code,
        signal,
      };
      if ((code !== 0 || signal) && !opts.allowFailure) reject(new CommandError([file, ...args], result));
      else resolve(result);
    });
    // A program that does not read stdin may close it early; that is not an error.
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input ?? "");
  });
}

/** Quote one word for a POSIX shell: single quotes, with embedded quotes spelled out. */
export function shQuote(word: string): string {
  if (word.includes("\0")) throw new Error("a shell word cannot contain a NUL byte");
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'"'"'`)}'`;
}

/** A command line for a remote shell, built word by word from an argument vector. */
export function shLine(argv: readonly string[]): string {
  return argv.map(shQuote).join(" ");
}

export function seconds(startMs: number): number {
  return Math.round((performance.now() - startMs) / 10) / 100;
}
