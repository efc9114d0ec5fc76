import { readFileSync } from "node:fs";
import { z } from "zod";
import { config, keyRefPolicy } from "../config";
import { resolveKeyRef } from "../hosts/key-ref";
import type { EdgeTarget } from "./driver/driver";
import { SshEdgeDriver, type EdgeDriver } from "./driver/driver";

/**
 * Which edge (gateway) host serves each hosting network. The schema's hosts are
 * hypervisors (HostRole NEST | LOADING | PRODUCTION) and an edge is not one, so edges
 * are listed in an edge manifest instead: JSON at EDGE_MANIFEST, one entry per hosting
 * network, with the same SSH fields as a host (key by reference, host key pinned). A lab
 * writes it when it starts its edges; an operator writes it for real gateways. A hosting
 * network without an entry has no edge: its bindings are kept in the database only.
 */
export const edgeEntrySchema = z.object({
  hostingNetwork: z.string().regex(/^[a-z][a-z0-9-]*$/),
  name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/),
  sshHost: z.string().min(1),
  sshPort: z.number().int().min(1).max(65535),
  sshUser: z.string().regex(/^[a-z_][a-z0-9_.-]{0,31}$/),
  /** `file:/path` or `env:VAR`, as for hosts: never the key itself (confined alike: server/hosts/key-ref.ts). */
  sshKeyRef: z.string().regex(/^(file|env):.+/),
  hostKeyFingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/),
  publicInterface: z.string().default("vmx-pub"),
  adminSocket: z.string().default("/run/haproxy/admin.sock"),
  vipMap: z.string().default("/etc/haproxy/vmatrix-vips.map"),
  tunnelDir: z.string().default("/etc/vmatrix/wireguard"),
});
export const edgeManifestSchema = z.object({ edges: z.array(edgeEntrySchema) });
export type EdgeEntry = z.infer<typeof edgeEntrySchema>;
export type EdgeManifest = z.infer<typeof edgeManifestSchema>;

export function edgeTarget(e: EdgeEntry): EdgeTarget {
  return {
    name: e.name,
    hostingNetwork: e.hostingNetwork,
    address: e.sshHost,
    port: e.sshPort,
    user: e.sshUser,
    privateKey: resolveKeyRef(e.sshKeyRef, keyRefPolicy()),
    hostKeyFingerprint: e.hostKeyFingerprint,
    publicInterface: e.publicInterface,
    adminSocket: e.adminSocket,
    vipMap: e.vipMap,
    tunnelDir: e.tunnelDir,
  };
}

export interface Edges {
  /** The edge of a hosting network (by slug), or null when it has none. */
  of(hostingNetwork: string): EdgeTarget | null;
  all(): EdgeTarget[];
  driver: EdgeDriver;
}

export function edgesFrom(manifest: EdgeManifest, driver: EdgeDriver): Edges {
  const parsed = edgeManifestSchema.parse(manifest);
  const bySlug = new Map(parsed.edges.map((e) => [e.hostingNetwork, edgeTarget(e)]));
  return { of: (slug) => bySlug.get(slug) ?? null, all: () => [...bySlug.values()], driver };
}

export function readEdgeManifest(path: string): EdgeManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`EDGE_MANIFEST: cannot read ${path}: ${(err as Error).message}`);
  }
  const parsed = edgeManifestSchema.safeParse(raw);
  if (!parsed.success)
    throw new Error(
      `EDGE_MANIFEST: ${path}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  return parsed.data;
}

const globalEdges = globalThis as unknown as { vmatrixEdges?: Edges | null };

/**
 * The edges this process drives: set once at start (the oracle, from EDGE_MANIFEST; a
 * test, from its lab). Read by the network steps, which have no other way to be given them.
 */
export function setEdges(edges: Edges | null): void {
  globalEdges.vmatrixEdges = edges;
}

export function currentEdges(): Edges | null {
  if (globalEdges.vmatrixEdges === undefined) {
    const path = config().EDGE_MANIFEST;
    globalEdges.vmatrixEdges = path
      ? edgesFrom(readEdgeManifest(path), new SshEdgeDriver({ connectTimeoutMs: 5000, commandTimeoutMs: 15_000 }))
      : null;
  }
  return globalEdges.vmatrixEdges;
}
