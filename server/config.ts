import { hostname } from "node:os";
import path from "node:path";
import { z } from "zod";
import type { KeyRefPolicy } from "./hosts/key-ref";
import { badTrustedProxies } from "./web/client-address";

/**
 * Configuration from the environment, validated once at start. Every bad variable is
 * reported by name with the reason, so a typo never surfaces later as a stack trace.
 */
const schema = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
      .optional(),
    PORT: z.coerce.number().int().min(1).max(65535).default(3000),
    /** demo (npm start's default: demo accounts, this machine only) or production (docs/security.md, "Modes"). */
    VMATRIX_MODE: z.enum(["demo", "production"], "must be demo or production").default("demo"),
    /** The web app's bind address: 127.0.0.1 in demo mode unless set; production mode requires it. */
    HOSTNAME: z.string().min(1).optional(),
    /** Reverse proxies whose X-Forwarded-For is believed: comma-separated addresses or CIDR ranges (default: none). */
    TRUSTED_PROXIES: z
      .string()
      .superRefine((v, ctx) => {
        const bad = badTrustedProxies(v);
        if (bad.length > 0)
          ctx.addIssue({
            code: "custom",
            message: `"${bad[0]}" is not an address or CIDR range (comma-separated, e.g. 10.0.0.5,192.168.1.0/24)`,
          });
      })
      .optional(),
    /** Production mode's first administrator (created once, while there is no administrator). */
    VMATRIX_ADMIN_EMAIL: z.email("must be an email address such as admin@example.com").optional(),
    VMATRIX_ADMIN_PASSWORD: z.string().min(12, "must be at least 12 characters").optional(),
    EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
    SIM_LAB_BASE_PORT: z.coerce.number().int().min(1024).max(60000).default(22000),
    VMATRIX_DATA_DIR: z.string().min(1).default(".data"),
    APP_URL: z.url("must be a URL such as http://localhost:3000").optional(),
    BETTER_AUTH_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
    AUTH_SIGNIN_PER_MINUTE: z.coerce.number().int().min(1).max(10000).default(10),
    HEARTBEAT_INTERVAL_MS: z.coerce.number().int().min(500).max(600_000).default(5000),
    HEARTBEAT_DOWN_AFTER: z.coerce.number().int().min(1).max(100).default(3),
    /** SSH connections one oracle keeps open at once across all hosts; at the cap the one idle the longest is closed (docs/scale.md). */
    SSH_MAX_CONNECTIONS: z.coerce.number().int().min(16).max(100_000).default(5000),
    /** An SSH connection with nothing running for this long is closed. */
    SSH_IDLE_CLOSE_MS: z.coerce.number().int().min(1000).max(3_600_000).default(300_000),
    /** Operations one oracle runs at once (each holds SSH sessions to two hosts and a database connection). */
    OPERATIONS_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
    /** Hibernate's pre-boot: seconds a VM runs before it is saved into the Nest (§3.4). */
    HIBERNATE_BOOT_SECONDS: z.coerce.number().int().min(0).max(600).default(10),
    METRICS_INTERVAL_MS: z.coerce.number().int().min(1000).max(600_000).default(10_000),
    /** A Local Oracle's scope: comma-separated hosting network slugs (all when unset). */
    ORACLE_HOSTING_NETWORKS: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]*(,[a-z][a-z0-9-]*)*$/,
        "must be comma-separated hosting network slugs, e.g. tokyo,frankfurt",
      )
      .optional(),
    /** Bearer token of outside systems posting demand (/api/demand) and asking for the nearest replica (/api/nearest); unset: both refuse. */
    DEMAND_INGEST_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
    /** Synthetic demand from the sim lab's world (the oracle's demand loop, flash crowds); off when real shippers post demand. */
    SIM_DEMAND: z.enum(["on", "off"], "must be on or off").default("on"),
    /** Online map tiles for the Map page, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png (off: offline country shapes only). */
    MAP_TILE_URL: z
      .string()
      .regex(
        /^https?:\/\/[^\s"'<>]*\{z\}[^\s"'<>]*\{x\}[^\s"'<>]*\{y\}[^\s"'<>]*$/,
        "must be an http(s) tile URL template with {z}, {x} and {y}, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png",
      )
      .optional(),
    /** Network mimicking (docs/network.md): the authoritative DNS server's address, port, zone and answer TTL (s), and the edge manifest (unset: no edges, bindings kept in the database only). */
    DNS_HOST: z.string().min(1).default("127.0.0.1"),
    DNS_PORT: z.coerce.number().int().min(1).max(65535).default(5353),
    DNS_ZONE: z
      .string()
      .regex(
        /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
        "must be a lowercase DNS name such as vmatrix.test",
      )
      .default("vmatrix.test"),
    DNS_TTL: z.coerce.number().int().min(0).max(86_400).default(30),
    /** While the database cannot be read, the DNS server answers from its last good view up to this old (s). */
    DNS_MAX_STALE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
    EDGE_MANIFEST: z.string().min(1).optional(),
    /**
     * SSH key references (docs/security.md, "Secrets and headers"): a `file:` reference must
     * lie inside this folder (or one of several, separated by ':'); default `.data` in demo
     * mode (the labs keep their client keys under it), VMATRIX_DATA_DIR/keys in production mode.
     */
    SSH_KEY_DIR: z
      .string()
      .refine(
        (v) => v.split(path.delimiter).every((d) => d.trim() !== ""),
        `must be a folder, or folders separated by '${path.delimiter}'`,
      )
      .optional(),
    /** An `env:` reference must name a variable whose name starts with this. */
    SSH_KEY_ENV_PREFIX: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, "must be the start of a variable name (A-Z, 0-9, _), e.g. VMATRIX_SSH_KEY_")
      .default("VMATRIX_SSH_KEY_"),
    /** API limits (docs/security.md, "Limits"): calls in one tRPC batch and bytes in one request body. */
    API_MAX_BATCH: z.coerce.number().int().min(1).max(1000).default(20),
    API_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(100_000_000).default(1_048_576),
    /** Per clan admin: matches booked and not yet over (live or future), the longest lead time (days) and duration (minutes). */
    BOOKING_MAX_OPEN_PER_USER: z.coerce.number().int().min(1).max(10_000).default(5),
    BOOKING_MAX_LEAD_DAYS: z.coerce.number().int().min(1).max(90).default(30),
    BOOKING_MAX_MINUTES: z.coerce.number().int().min(15).max(480).default(240),
    /** "Measure pings" runs per user per hour (each pings from up to 10 hosts over SSH). */
    MEASURE_PINGS_PER_HOUR: z.coerce.number().int().min(1).max(10_000).default(20),
    /** Demand batches per ingest token per minute (POST /api/demand). */
    DEMAND_INGEST_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(120),
    /** Questions per token per minute (GET /api/nearest). */
    NEAREST_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(6000),
    /** Retention (docs/security.md "Retention"): demand samples, finished operations and resolved alerts, in days; audit is kept. */
    RETENTION_DEMAND_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
    RETENTION_OPERATIONS_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
    RETENTION_ALERTS_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
    /** Metric samples per tier: raw (hours), minute and hour rollups (days). */
    RETENTION_METRICS_RAW_HOURS: z.coerce.number().int().min(1).max(720).default(6),
    RETENTION_METRICS_MINUTE_DAYS: z.coerce.number().int().min(1).max(365).default(8),
    RETENTION_METRICS_HOUR_DAYS: z.coerce.number().int().min(1).max(3650).default(400),
    /** Bearer token for /metrics; unset: /metrics answers only clients on this machine (loopback). */
    METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  })
  .superRefine((c, ctx) => {
    if (c.VMATRIX_MODE !== "production") return;
    if (!c.APP_URL?.startsWith("https://"))
      ctx.addIssue({
        code: "custom",
        path: ["APP_URL"],
        message: "must be the https:// address users open in production mode, e.g. https://vmatrix.example.com",
      });
    if (!c.HOSTNAME)
      ctx.addIssue({
        code: "custom",
        path: ["HOSTNAME"],
        message: "must be set in production mode: the address to listen on, e.g. 127.0.0.1 behind a proxy or 0.0.0.0",
      });
  })
  .transform((c) => ({
    ...c,
    HOSTNAME: c.HOSTNAME ?? "127.0.0.1",
    SSH_KEY_DIR: c.SSH_KEY_DIR ?? (c.VMATRIX_MODE === "production" ? path.join(c.VMATRIX_DATA_DIR, "keys") : ".data"),
  }));

export type Config = z.output<typeof schema>;

export class ConfigError extends Error {}

export function parseConfig(env: Record<string, string | undefined>, machineName = hostname()): Config {
  // Empty strings mean "unset", as in most .env files. HOSTNAME equal to this machine's own
  // name is what containers and some shells export, not a bind address someone chose.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => v !== undefined && v !== "" && !(k === "HOSTNAME" && v === machineName)),
  );
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration in the environment:\n${lines.join("\n")}`);
  }
  return result.data;
}

/** Where SSH private keys may come from (server/hosts/key-ref.ts): the key folders, absolute, and the variables' prefix. */
export function keyRefPolicy(cfg: Config = config()): KeyRefPolicy {
  return {
    keyDirs: cfg.SSH_KEY_DIR.split(path.delimiter).map((d) => path.resolve(d.trim())),
    envPrefix: cfg.SSH_KEY_ENV_PREFIX,
  };
}

let cached: Config | undefined;
export function config(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}

/**
 * For the processes `npm start` spawns (oracle, DNS server): the configuration with a
 * database URL, or one line saying what is wrong and exit 1.
 */
export function childProcessConfig(who: string): Config & { DATABASE_URL: string } {
  let cfg: Config;
  try {
    cfg = config();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  if (!cfg.DATABASE_URL) {
    console.error(`${who} needs DATABASE_URL (npm start provides it).`);
    process.exit(1);
  }
  return { ...cfg, DATABASE_URL: cfg.DATABASE_URL };
}
