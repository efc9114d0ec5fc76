/**
 * The operator CLI: `npm run vmatrix -- <noun> <verb> [options]`. It calls the running
 * product's tRPC API over HTTP with a personal API token (VMATRIX_TOKEN, a token file, or in
 * the demo `.data/demo-tokens/operator.token`), so it does what the token's owner may do and
 * the audit names them. `--break-glass` (an administrator on the server) instead opens the
 * database directly and calls the same procedures as the system user, naming the OS user.
 * Every listing takes --json and prints an array of objects. Each noun is a module in
 * scripts/cli/, named as the API router it calls (`vms`, `operations`, `network`, …); the
 * CLI's older nouns (`vm`, `ops`, `net`) are aliases.
 */
import { accessSync, constants, existsSync } from "node:fs";
import { userInfo } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { TRPCError } from "@trpc/server";
import { ZodError } from "zod";
import { alertsCommand } from "./cli/alerts";
import { autoscalerCommand } from "./cli/autoscaler";
import { apiUrl, describeApiError, findToken, httpApi, TRPCClientError } from "./cli/api";
import { type CliCommand, type CliContext, type Options, UsageError } from "./cli/command";
import { demandCommand } from "./cli/demand";
import { hostsCommand } from "./cli/hosts";
import { imagesCommand } from "./cli/images";
import { matchesCommand } from "./cli/matches";
import { networkCommand } from "./cli/network";
import { operationsCommand } from "./cli/operations";
import { poolsCommand } from "./cli/pools";
import { replicasCommand } from "./cli/replicas";
import { tokensCommand } from "./cli/tokens";
import { vmsCommand } from "./cli/vms";

const COMMANDS: readonly CliCommand[] = [
  hostsCommand,
  alertsCommand,
  vmsCommand,
  imagesCommand,
  operationsCommand,
  replicasCommand,
  demandCommand,
  networkCommand,
  tokensCommand,
  matchesCommand,
  autoscalerCommand,
  poolsCommand,
];
/** Every name a command answers to: its noun and its aliases. */
const BY_NAME = new Map(COMMANDS.flatMap((c) => [c.noun, ...(c.aliases ?? [])].map((name) => [name, c] as const)));

const NOUNS = COMMANDS.map((c) => (c.aliases?.length ? `${c.noun} (${c.aliases.join(", ")})` : c.noun)).join(", ");
const USAGE = `Usage: npm run vmatrix -- <noun> <verb> [options]

Nouns (aliases in parentheses): ${NOUNS}

It talks to the running product (VMATRIX_URL, else APP_URL, else http://127.0.0.1:3000) with
an API token: --token-file FILE, else VMATRIX_TOKEN, else ~/.config/vmatrix/token, else the
demo's .data/demo-tokens/operator.token. --break-glass (an administrator on the server) opens
the database directly instead, as the system user; the audit names the OS user.

${COMMANDS.map((c) => c.usage).join("\n")}
`;

/** One line per problem, naming the field; no stack traces for expected refusals. */
function describe(err: unknown): string {
  if (err instanceof TRPCClientError) return describeApiError(err, apiUrl());
  if (err instanceof TRPCError && err.cause instanceof ZodError) {
    return err.cause.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("; ");
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

let parsed: { values: unknown; positionals: string[] };
try {
  parsed = parseArgs({
    allowPositionals: true,
    strict: true,
    options: Object.assign(
      {
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        "token-file": { type: "string" },
        "break-glass": { type: "boolean" },
      },
      ...COMMANDS.map((c) => c.options),
    ),
  });
} catch (err) {
  console.error(`vmatrix: ${describe(err)}\n\n${USAGE}`);
  process.exit(1);
}
const opts = parsed.values as Options;
const positionals = parsed.positionals;
const [noun, verb, ...args] = positionals;
if (opts.help || !noun) {
  console.log(USAGE);
  process.exit(0);
}
const command = BY_NAME.get(noun);
if (!command) {
  console.error(`vmatrix: unknown command ${noun}\n\n${USAGE}`);
  process.exit(1);
}

/**
 * Break-glass: the database opened directly (DATABASE_URL, or the embedded server's data
 * directory, which only the server's own account can read) and the same procedures called in
 * this process as the system user, for an administrator on the server when the web app is
 * down or nobody can sign in. Said on stderr each time; the audit names `break-glass:<OS user>`.
 */
async function breakGlass(run: (ctx: Omit<CliContext, "verb" | "args" | "opts">) => Promise<void>) {
  // On the embedded defaults the edges are `npm start`'s sim edges, listed in its manifest.
  const simEdgeManifest = path.resolve(process.env.VMATRIX_DATA_DIR ?? ".data", "lab-sim", "edges.json");
  if (!process.env.EDGE_MANIFEST && existsSync(simEdgeManifest)) process.env.EDGE_MANIFEST = simEdgeManifest;
  // Never a new, empty embedded database: break-glass works on the product's own, or not at all.
  const pgDir = path.resolve(process.env.VMATRIX_DATA_DIR || ".data", "pg");
  if (!process.env.DATABASE_URL) {
    try {
      accessSync(path.join(pgDir, "PG_VERSION"), constants.R_OK);
    } catch {
      throw new UsageError(
        `--break-glass: needs DATABASE_URL, or read access to the product's database folder ${pgDir} (run it on the server, as the account that runs the product)`,
      );
    }
  }
  const actor = `break-glass:${userInfo().username}`;
  console.error(
    `vmatrix: BREAK-GLASS: acting as the system user (administrator) directly on the database, bypassing the web app; the audit records ${actor}`,
  );
  // Loaded here only: the server's modules (the whole router, Prisma, SSH) are what a
  // normal CLI call over HTTP must not pay for at every start.
  const [
    { createCaller },
    { createInnerContext },
    { systemUser },
    { createDb },
    { provisionDatabase },
    { SshHostDriver },
    { inProcessCalls },
    { currentEdges },
  ] = await Promise.all([
    import("../server/api/root"),
    import("../server/api/trpc"),
    import("../server/auth/system-user"),
    import("../server/db/client"),
    import("../server/db/provision"),
    import("../server/hosts/driver"),
    import("../server/calls/kinds"),
    import("../server/edge/registry"),
  ]);
  const database = await provisionDatabase();
  const db = createDb(database.url, 2);
  const driver = new SshHostDriver({ connectTimeoutMs: 5000, commandTimeoutMs: 15_000 });
  try {
    // Break-glass runs on the server: what needs SSH runs here, not through an oracle.
    const oracle = inProcessCalls({ db, driver, edges: currentEdges });
    const api = createCaller(createInnerContext({ db, user: await systemUser(db, actor), oracle }));
    await run({ api, db, actor });
  } finally {
    await driver.close();
    await db.$disconnect();
    await database.stop();
  }
}

let code = 0;
try {
  if (opts["break-glass"]) await breakGlass((ctx) => command.run({ ...ctx, verb, args, opts }));
  else {
    const api = httpApi(apiUrl(), findToken(typeof opts["token-file"] === "string" ? opts["token-file"] : undefined));
    await command.run({ api, verb, args, opts });
  }
} catch (err) {
  console.error(`vmatrix: ${describe(err)}`);
  if (err instanceof UsageError) console.error(`\n${USAGE}`);
  code = 1;
}
process.exit(code || Number(process.exitCode ?? 0));
