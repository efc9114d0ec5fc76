/**
 * Which oracle looks after which hosting network (its heartbeats): rendezvous hashing
 * with bounded loads over the live oracles.
 *
 * Every oracle computes the same answer from the same two lists (the hosting networks with
 * their host counts, the live oracles from their presence rows), so nothing is stored and
 * nothing is handed over: when an oracle joins, only the networks whose highest score is
 * now the newcomer's move to it (about 1/K of them); when one leaves, only its own
 * networks move. Plain rendezvous hashing balances only on average, so each oracle may
 * take at most (1 + slack) × its fair share of hosts; a network that would overfill its
 * first choice goes to its next (Mirrokni, Thorup, Zadimoghaddam: "Consistent hashing with
 * bounded loads", 2018).
 */
export interface ShareNetwork {
  id: string;
  /** Hosts beaten there: the network's weight. */
  hosts: number;
}

export interface ShareOracle {
  id: string;
  /** The hosting networks it may look after (a Local Oracle's scope); empty: every one. */
  scope: readonly string[];
}

/** How far above its fair share of hosts one oracle may go. */
export const DEFAULT_SHARE_SLACK = 0.1;

/**
 * The owner of each hosting network (network id → oracle id). A network no oracle's scope
 * covers has no owner and is absent.
 */
export function assignNetworks(
  networks: readonly ShareNetwork[],
  oracles: readonly ShareOracle[],
  slack = DEFAULT_SHARE_SLACK,
): Map<string, string> {
  const owners = new Map<string, string>();
  if (oracles.length === 0) return owners;
  const weight = (n: ShareNetwork) => Math.max(1, n.hosts);
  const total = networks.reduce((s, n) => s + weight(n), 0);
  const capacity = ((1 + slack) * total) / oracles.length;
  const load = new Map(oracles.map((o) => [o.id, 0]));
  const scopes = oracles.map((o) => ({ oracle: o, scope: o.scope.length ? new Set(o.scope) : null }));
  // Heaviest first (ties by id): the big networks are placed while every oracle has room.
  const order = [...networks].sort((a, b) => weight(b) - weight(a) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const n of order) {
    const ranked = scopes
      .filter((s) => s.scope === null || s.scope.has(n.id))
      .map((s) => ({ id: s.oracle.id, score: score(s.oracle.id, n.id) }))
      .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
    if (ranked.length === 0) continue;
    const w = weight(n);
    const fits = ranked.find((r) => load.get(r.id)! + w <= capacity);
    // Nobody has room (a network larger than a share): the least loaded of its candidates.
    const owner = fits ?? ranked.reduce((best, r) => (load.get(r.id)! < load.get(best.id)! ? r : best), ranked[0]!);
    owners.set(n.id, owner.id);
    load.set(owner.id, load.get(owner.id)! + w);
  }
  return owners;
}

/** The rendezvous score of an oracle for a network: a well-mixed 32-bit hash of both ids. */
function score(oracleId: string, networkId: string): number {
  // FNV-1a over the pair, then murmur3's finalizer so similar ids spread over all 32 bits.
  let h = 0x811c9dc5;
  const text = `${oracleId}\u0000${networkId}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
