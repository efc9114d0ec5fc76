import type { ParseArgsConfig } from "node:util";
import type { createCaller } from "../../server/api/root";
import type { Db } from "../../server/db/client";

/** A mistake in how the command was typed: printed with the usage. */
export class UsageError extends Error {}

export type Api = ReturnType<typeof createCaller>;
export type Options = Record<string, string | boolean | undefined>;

/**
 * What a command module gets: the API (over HTTP as the token's owner, or with --break-glass
 * in this process as the system user), its verb, arguments and options; `db` only with
 * --break-glass (the database opened directly).
 */
export interface CliContext {
  api: Api;
  db?: Db;
  /** With --break-glass: who the audit names (`break-glass:<OS user>`). */
  actor?: string;
  verb: string | undefined;
  args: string[];
  opts: Options;
}

/** One noun of `npm run vmatrix -- <noun> <verb>`: its names, its usage lines, its options, and what it does. */
export interface CliCommand {
  /** The noun: the name of the API router it calls (`vms`, `operations`, …). */
  noun: string;
  /** Other names that work too (the CLI's older, shorter nouns: `vm`, `ops`, `net`). */
  aliases?: readonly string[];
  usage: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  run(ctx: CliContext): Promise<void>;
}

/** JSON on stdout (bigints as strings): what scripts read. */
export function out(value: unknown) {
  console.log(JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2));
}

export function stringOpt(opts: Options, name: string): string | undefined {
  const v = opts[name];
  return typeof v === "string" ? v : undefined;
}

/**
 * A lookup by name through the API (`api.lookup.host({ name })`): a name that names nothing
 * is a mistake in how the command was typed, said as `<field>: <the API's words>` with the usage.
 */
export async function named<T>(lookup: Promise<T>, field?: string): Promise<T> {
  try {
    return await lookup;
  } catch (err) {
    const e = err as { code?: unknown; data?: { code?: unknown }; message?: string };
    if (e.code === "NOT_FOUND" || e.data?.code === "NOT_FOUND")
      throw new UsageError(field ? `${field}: ${e.message}` : String(e.message));
    throw err;
  }
}
