import { assertLatLon, fittedModel, greatCircleKm, type LatencyModel, type LatLon } from "./model";

/**
 * Modelled RTTs from every server to every player, flat row-major
 * (`out[s * players.length + p]`), the layout the placement engine reads.
 * Location offsets are computed once per point, not once per pair.
 */
export function modelledRttMatrix(
  servers: readonly LatLon[],
  players: readonly LatLon[],
  model: LatencyModel = fittedModel,
): Float64Array {
  servers.forEach((s, i) => assertLatLon(s, `servers[${i}]`));
  players.forEach((p, i) => assertLatLon(p, `players[${i}]`));
  const playerOffsets = players.map((p) => model.locationOffset(p));
  const out = new Float64Array(servers.length * players.length);
  servers.forEach((server, s) => {
    const serverOffset = model.locationOffset(server);
    players.forEach((player, p) => {
      out[s * players.length + p] = model.rttFromParts(
        greatCircleKm(server, player),
        serverOffset,
        playerOffsets[p] ?? 0,
      );
    });
  });
  return out;
}
