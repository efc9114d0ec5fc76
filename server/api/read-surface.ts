/**
 * What each role may read (docs/security.md, "Who sees what"). Two layers:
 * - whole procedures that are infrastructure refuse clan admins (outside customers) with
 *   403 in one line (`STAFF_ONLY`, used by `staffReadProcedure` in trpc.ts);
 * - every response, whatever its procedure, loses the fields a role may not see, by
 *   name, at any depth (`redactFor`), so a new query or include cannot leak them.
 */
import type { Role } from "../auth/roles";

/** No response to anyone carries these: the name of a private key file or variable on the server. */
export const KEY_FIELDS = ["sshKeyRef", "keyRef"] as const;

/** How the oracle reaches a host over SSH: operators and administrators only. */
export const SSH_FIELDS = ["sshHost", "sshPort", "sshUser", "hostKeyFingerprint"] as const;

/**
 * Infrastructure a customer has no business with: hosts' directories and errors, other
 * owners' back ends, domains, private addresses and segments, the address pools, the
 * scheduler's reasoning and VM files.
 */
export const INFRASTRUCTURE_FIELDS = [
  "vmDir",
  "lastError",
  "backendEndpoint",
  "backendPublicKey",
  "backendCidr",
  "backend",
  "ownerDomain",
  "publicPoolCidr",
  "privateAddress",
  "segment",
  "segments",
  "diskPath",
  "statePath",
  "xmlPath",
  "decision",
] as const;

const HIDDEN: Record<Role, ReadonlySet<string>> = {
  ADMIN: new Set(KEY_FIELDS),
  OPERATOR: new Set(KEY_FIELDS),
  MANAGER: new Set([...KEY_FIELDS, ...SSH_FIELDS]),
  CLAN_ADMIN: new Set([...KEY_FIELDS, ...SSH_FIELDS, ...INFRASTRUCTURE_FIELDS]),
};

/** The fields `role` never gets back (tests scan responses for them). */
export function hiddenFields(role: Role): ReadonlySet<string> {
  return HIDDEN[role];
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

/**
 * A copy of `value` without the keys `role` may not see, at any depth of plain objects
 * and arrays. Dates, BigInts, Maps and the like are kept as they are (superjson sends them).
 */
export function redactFor<T>(role: Role, value: T): T {
  const hidden = HIDDEN[role];
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (!isPlainObject(v)) return v;
    const out: Record<string, unknown> = {};
    for (const [k, inner] of Object.entries(v)) if (!hidden.has(k)) out[k] = walk(inner);
    return out;
  };
  return walk(value) as T;
}

/** Why a clan admin is refused an infrastructure read (one line; `what` names the data). */
export function customerDenial(what: string): string {
  return `Clan admins see their matches, the games and hosting networks' health; ${what} are for operators, managers and administrators.`;
}
