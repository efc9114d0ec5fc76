/**
 * Where players connect while a match is live: the game server's public address and port on
 * its hosting network's edge, and a DNS name of its own in the product's zone.
 */

/** `match-<id>.<zone>`: match ids are lower-case letters and digits, so the label is a valid DNS label. */
export function matchDnsName(matchId: string, zone: string): string {
  return `match-${matchId}.${zone}`.toLowerCase().replace(/\.$/, "");
}
