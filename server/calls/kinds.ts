import superjson from "superjson";
import type { Db } from "../db/client";
import { failureError, failureOf } from "./failure";
import { applyFirewallOf } from "../edge/network";
import { edgeHealth } from "../edge/hosting-network-view";
import { probeEdge } from "../edge/probe";
import type { Probe } from "../edge/firewall-verdict";
import type { Edges } from "../edge/registry";
import type { HostDriver } from "../hosts/driver";
import type { MatchRequest } from "../matches/booking-schema";
import { measurePings } from "../matches/measure-pings";
import { confirmHostKey, previewHostKey, probeFacts, registerHost } from "../registry/hosts";
import { inspectImage } from "../registry/images";
import type { RegisterHostInput } from "../registry/hosts.schema";

/** What a call runs with: the oracle's database, its SSH connections to hosts, its edges. */
export interface CallDeps {
  db: Db;
  driver: HostDriver;
  edges: () => Edges | null;
}

/**
 * Everything the web app asks an oracle to do, because it needs SSH to a host or an edge
 * (issue 15: the internet-facing web process holds no host key and opens no SSH session).
 * Each call is a function of the oracle's dependencies and a plain input; what it writes to
 * the database, it writes there, and its answer goes back to the web app (server/calls/request.ts).
 */
export const CALLS = {
  /** Registration step 1: the key a new host presents, for the operator to compare. */
  "host.previewKey": (_d: CallDeps, i: { sshHost: string; sshPort: number }) => previewHostKey(i.sshHost, i.sshPort),
  /** Registration step 2: probe the new host with its confirmed key pinned (nothing written yet). */
  "host.probeNew": (d: CallDeps, i: RegisterHostInput) => registerHost(d.db, d.driver, i),
  /** Re-read a registered host's facts over its pinned connection (the web app records them, audited). */
  "host.probe": (d: CallDeps, i: { hostId: string }) => probeFacts(d.db, d.driver, i.hostId),
  /** A changed key: the host as registered, and the key it presents now (null: no such host). */
  "host.reviewKey": async (d: CallDeps, i: { hostId: string }) => {
    const host = await d.db.host.findUnique({ where: { id: i.hostId } });
    if (!host) return null;
    return { host, presented: await previewHostKey(host.sshHost, host.sshPort) };
  },
  /** Before a new key is pinned: the host must present exactly the fingerprint the operator confirmed. */
  "host.checkKey": (d: CallDeps, i: { hostId: string; fingerprint: string }) =>
    confirmHostKey(d.db, i.hostId, i.fingerprint),
  /** A golden image's file on its host (`<vmDir>/<name>.image`): its size and SHA-256, before it is registered. */
  "image.inspect": (d: CallDeps, i: { hostId: string; name: string }) => inspectImage(d.db, d.driver, i),
  /** The model's top candidates refined with real pings from those hosts to the players. */
  "match.measurePings": (d: CallDeps, i: { userId: string; request: MatchRequest; count: number }) =>
    measurePings(d.db, d.driver, { id: i.userId }, i.request, i.count),
  /** What an edge's live firewall does with a new connection to a public address and port. */
  "edge.probe": (d: CallDeps, i: Probe) => probeEdge(d.db, d.edges(), i),
  /** Whether a hosting network's edge answers (cached for a few seconds in the oracle). */
  "edge.health": (d: CallDeps, i: { slug: string }) => edgeHealth(d.edges(), i.slug),
  /** After a pool change: the edge's firewall follows the database at once (drift until it answers). */
  "edge.applyFirewall": async (d: CallDeps, i: { slug: string }) => {
    const edges = d.edges();
    const edge = edges?.of(i.slug) ?? null;
    const hn = await d.db.hostingNetwork.findUnique({ where: { slug: i.slug }, select: { id: true } });
    if (!edges || !edge || !hn) return { applied: false };
    await applyFirewallOf(d.db, { driver: edges.driver, edge }, hn);
    return { applied: true };
  },
} as const;

export type CallKind = keyof typeof CALLS;
export type CallInput<K extends CallKind> = Parameters<(typeof CALLS)[K]>[1];
export type CallResult<K extends CallKind> = Awaited<ReturnType<(typeof CALLS)[K]>>;

/** How the web app reaches an oracle: `queuedCalls` (server/calls/request.ts) or, on the oracle's own machine, `inProcessCalls`. */
export interface OracleCalls {
  call<K extends CallKind>(kind: K, input: CallInput<K>): Promise<CallResult<K>>;
}

/**
 * Calls run in this process with these dependencies: the break-glass CLI on the server, and
 * tests of the procedures (the queue between the web app and an oracle has its own tests).
 */
export function inProcessCalls(deps: CallDeps): OracleCalls {
  return {
    async call(kind, input) {
      try {
        const result = await (CALLS[kind] as (d: CallDeps, i: typeof input) => Promise<unknown>)(deps, input);
        // What crosses the queue: the same serialisation, so callers see the same values either way.
        return superjson.parse(superjson.stringify(result)) as never;
      } catch (err) {
        throw failureError(failureOf(err));
      }
    },
  };
}
