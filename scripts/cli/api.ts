import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { createTRPCUntypedClient, httpLink, TRPCClientError } from "@trpc/client";
import superjson from "superjson";
import type { Api } from "./command";

/**
 * The CLI's way into the product: the running app's tRPC API over HTTP, with a personal API
 * token, so a command can do exactly what the token's owner may do, and the audit names them.
 */

/** Where the API is: VMATRIX_URL, else APP_URL, else the local app that `npm start` serves. */
export function apiUrl(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.VMATRIX_URL || env.APP_URL || `http://127.0.0.1:${env.PORT || 3000}`;
  return new URL("/api/trpc", base).toString();
}

/** The token file in the user's configuration: `$XDG_CONFIG_HOME/vmatrix/token` (`~/.config/vmatrix/token`). */
export function configTokenFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_CONFIG_HOME || path.join(homedir(), ".config"), "vmatrix", "token");
}

/** The demo's operator token, written by `npm start` while the demo runs. */
export function demoTokenFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.VMATRIX_DATA_DIR ?? ".data", "demo-tokens", "operator.token");
}

/** A token the CLI could not find or read: said in one line, with where it looked. */
export class NoToken extends Error {}

function readToken(file: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new NoToken(`${what}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const token = text.trim();
  if (!token) throw new NoToken(`${what}: ${file} is empty`);
  return token;
}

/**
 * The token to send: --token-file, else VMATRIX_TOKEN, else the user's config file, else
 * (the demo) `.data/demo-tokens/operator.token`.
 */
export function findToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (tokenFile) return readToken(tokenFile, "--token-file");
  if (env.VMATRIX_TOKEN?.trim()) return env.VMATRIX_TOKEN.trim();
  const config = configTokenFile(env);
  if (existsSync(config)) return readToken(config, "token file");
  const demo = demoTokenFile(env);
  if (existsSync(demo)) return readToken(demo, "demo token");
  throw new NoToken(
    `no API token: set VMATRIX_TOKEN, write one to ${config} or pass --token-file FILE (create one on the Account page); on the server, an administrator may use --break-glass`,
  );
}

/**
 * An `Api` with the server-side caller's shape (`api.hosts.list(input)`) whose calls go over
 * HTTP, so the command modules run the same against the running product and (break-glass)
 * the database. Every call is a POST: the API allows a query to be sent so (tRPC's method
 * override, app/api/trpc), and the procedure's own type decides what it does. The CLI need
 * not load the router to know which is which, which made every start take seconds.
 */
export function httpApi(url: string, token: string): Api {
  const client = createTRPCUntypedClient({
    links: [
      httpLink({
        url,
        transformer: superjson,
        headers: { authorization: `Bearer ${token}`, "user-agent": "vmatrix-cli" },
      }),
    ],
  });
  const at = (parts: string[]): unknown =>
    new Proxy(() => undefined, {
      // `then` undefined: a router level is not a promise when awaited by mistake.
      get: (_target, key) => (typeof key === "string" && key !== "then" ? at([...parts, key]) : undefined),
      apply: (_target, _this, args: unknown[]) => client.mutation(parts.join("."), args[0]),
    });
  return at([]) as Api;
}

/** One line for an API error: a refused token, an unreachable API, or the API's own words. */
export function describeApiError(err: TRPCClientError<never>, url: string): string {
  const data = err.data as { httpStatus?: number; zodError?: { fieldErrors?: Record<string, string[]> } } | undefined;
  if (data?.httpStatus === 401) return `the API refused the token: ${err.message}`;
  if (!data && err.cause) {
    const cause = err.cause as { cause?: { code?: string; message?: string }; message?: string };
    const why = cause.cause?.code ?? cause.cause?.message ?? cause.message ?? String(err.cause);
    return `cannot reach the API at ${url} (${why}): is the product running (npm start)? Set VMATRIX_URL to where it is`;
  }
  // Bad input: the validator's issues (JSON in the message) as `field: reason`, like the forms show them.
  try {
    const issues = JSON.parse(err.message) as { path: (string | number)[]; message: string }[];
    if (Array.isArray(issues) && issues.every((i) => Array.isArray(i.path) && typeof i.message === "string"))
      return issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("; ");
  } catch {
    // Not the validator's JSON: the message is the API's own words.
  }
  return err.message;
}

export { TRPCClientError };
