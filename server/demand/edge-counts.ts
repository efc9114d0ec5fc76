/**
 * An edge's requests per client as demand. The edge's HAProxy counts requests per client
 * address in each service backend's stick table (http_req_cnt) and keeps, beside it, the
 * count already recorded (gpt0, set by the collector after it wrote the demand). What is
 * new is the difference: nothing is kept in the oracle, so a restarted oracle or another
 * one carries on exactly where the last left off. Pure.
 */

export interface EdgeClientCount {
  address: string;
  requests: number;
  counted: number;
}

/**
 * Requests not yet recorded, per client. A count below its mark is an entry HAProxy made
 * again (it expired and the client came back): all of it is new.
 */
export function newClientRequests(clients: readonly EdgeClientCount[]): { address: string; requests: number }[] {
  return clients
    .map((c) => ({ address: c.address, requests: c.requests >= c.counted ? c.requests - c.counted : c.requests }))
    .filter((c) => c.requests > 0);
}
