/** Roles of the product's users (DESIGN.md "Who uses it"). */
export const ROLES = ["OPERATOR", "CLAN_ADMIN", "MANAGER", "ADMIN"] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_LABEL: Record<Role, string> = {
  OPERATOR: "Operator",
  CLAN_ADMIN: "Clan admin",
  MANAGER: "Manager (read only)",
  ADMIN: "Administrator",
};

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/** Who may do what. Admins may do everything; managers only read. */
export const can = {
  operate: (r: Role) => r === "OPERATOR" || r === "ADMIN",
  book: (r: Role) => r === "CLAN_ADMIN" || r === "ADMIN",
  administer: (r: Role) => r === "ADMIN",
};

/** Who reads what (docs/security.md, "Who sees what"); the API enforces it, the UI follows. */
export const sees = {
  /** Hosts, VMs, operations, alerts, network: all but clan admins, who are outside customers. */
  infrastructure: (r: Role) => r !== "CLAN_ADMIN",
  /** Hosts' SSH address, port, user and key fingerprint: those who operate them. */
  ssh: (r: Role) => r === "OPERATOR" || r === "ADMIN",
};
