/**
 * The operator CLI: `npm run vmatrix -- <noun> <verb> [options]`. It calls the same tRPC
 * procedures as the web app (validation, roles, audit), as the system user on behalf of
 * the OS user running it. Every listing takes --json and prints an array of objects.
 * Each noun is a module in scripts/cli/, named as the API router it calls (`vms`,
 * `operations`, `network`, …); the CLI's older nouns (`vm`, `ops`, `net`) are aliases.
 */
import { existsSync } from "node:fs";
import { userInfo } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { TRPCError } from "@trpc/server";
import { ZodError } from "zod";
import { createCaller } from "../server/api/root";
import { createInnerContext } from "../server/api/trpc";
import { systemUser } from "../server/auth/system-user";
import { createDb } from "../server/db/client";
import { provisionDatabase } from "../server/db/provision";
import { SshHostDriver } from "../server/hosts/driver";
import { alertsCommand } from "./cli/alerts";
import { type CliCommand, type Options, UsageError } from "./cli/command";
import { demandCommand } from "./cli/demand";
import { hostsCommand } from "./cli/hosts";
import { networkCommand } from "./cli/network";
import { operationsCommand } from "./cli/operations";
import { replicasCommand } from "./cli/replicas";
import { vmsCommand } from "./cli/vms";

// On the embedded defaults the edges are `npm start`'s sim edges, listed in its manifest.
const simEdgeManifest = path.resolve(process.env.VMATRIX_DATA_DIR ?? ".data", "lab-sim", "edges.json");
if (!process.env.EDGE_MANIFEST && existsSync(simEdgeManifest)) process.env.EDGE_MANIFEST = simEdgeManifest;

const COMMANDS: readonly CliCommand[] = [
  hostsCommand,
  alertsCommand,
  vmsCommand,
  operationsCommand,
  replicasCommand,
  demandCommand,
  networkCommand,
];
/** Every name a command answers to: its noun and its aliases. */
const BY_NAME = new Map(COMMANDS.flatMap((c) => [c.noun, ...(c.aliases ?? [])].map((name) => [name, c] as const)));

const NOUNS = COMMANDS.map((c) => (c.aliases?.length ? `${c.noun} (${c.aliases.join(", ")})` : c.noun)).join(", ");
const USAGE = `Usage: npm run vmatrix -- <noun> <verb> [options]

Nouns (aliases in parentheses): ${NOUNS}

${COMMANDS.map((c) => c.usage).join("\n")}
`;

/** One line per problem, naming the field; no stack traces for expected refusals. */
function describe(err: unknown): string {
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
      { json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
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

const database = await provisionDatabase();
const db = createDb(database.url, 2);
const driver = new SshHostDriver({ connectTimeoutMs: 5000, commandTimeoutMs: 15_000 });
let code = 0;
try {
  const api = createCaller(
    createInnerContext({ db, user: await systemUser(db, `cli:${userInfo().username}`), hosts: () => driver }),
  );
  await command.run({ db, api, verb, args, opts });
} catch (err) {
  console.error(`vmatrix: ${describe(err)}`);
  if (err instanceof UsageError) console.error(`\n${USAGE}`);
  code = 1;
} finally {
  await driver.close();
  await db.$disconnect();
  await database.stop();
}
process.exit(code || Number(process.exitCode ?? 0));
