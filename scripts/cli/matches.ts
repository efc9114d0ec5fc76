import { matchRequest, MAX_MAX_RTT_MS, MIN_MAX_RTT_MS } from "../../server/matches/booking-schema";
import { type Api, type CliCommand, named, out, stringOpt, UsageError, type Options } from "./command";

type Listed = Awaited<ReturnType<Api["matches"]["list"]>>[number];

/** One booking as scripts read it (issue 18: id, state, host, hosting network, slot, address, failure). */
function row(m: Listed) {
  return {
    id: m.id,
    state: m.status,
    game: m.service.name,
    clanA: m.clanA,
    clanB: m.clanB,
    host: m.host.name,
    hostingNetwork: m.host.hostingNetwork.slug,
    city: m.host.hostingNetwork.city,
    startsAt: m.startsAt,
    endsAt: m.endsAt,
    address: m.address,
    port: m.port,
    dnsName: m.dnsName,
    failure: m.error,
    players: m.players.map((p) => ({ name: p.name, team: p.team })),
  };
}

/** A player's measured RTT beside the model's, and the difference (what `--measure` prints). */
function measuredVsModel(c: { measuredMs: (number | null)[]; modelledMs: number[] }, player: number): string {
  const model = c.modelledMs[player]!;
  const measured = c.measuredMs[player];
  if (measured === null || measured === undefined) return `model ${model.toFixed(1)} ms (not measured)`;
  const signed = (v: number, digits: number) => `${v < 0 ? "−" : "+"}${Math.abs(v).toFixed(digits)}`;
  const d = measured - model;
  return `measured ${measured.toFixed(1)} ms, model ${model.toFixed(1)} ms, Δ ${signed(d, 1)} ms (${signed((100 * d) / model, 0)}%)`;
}

/** `--player NAME,CLAN,IP` (repeatable): the first clan named is clan A, the second clan B. */
function players(opts: Options) {
  const raw = opts.player;
  const given = Array.isArray(raw) ? raw : typeof raw === "string" ? [raw] : [];
  if (given.length === 0)
    throw new UsageError("--player: required, once per player, e.g. --player Ann,Red,203.0.113.7");
  const clans: string[] = [];
  const list = given.map((text, i) => {
    const parts = String(text)
      .split(",")
      .map((s) => s.trim());
    if (parts.length !== 3 || parts.some((p) => !p))
      throw new UsageError(`--player #${i + 1}: "${String(text)}" is not NAME,CLAN,IP (e.g. Ann,Red,203.0.113.7)`);
    const [name, clan, ip] = parts as [string, string, string];
    if (!clans.some((c) => c.toLowerCase() === clan.toLowerCase())) clans.push(clan);
    return { name, clan, ip };
  });
  if (clans.length !== 2)
    throw new UsageError(
      `--player: the players must belong to exactly two clans (found ${clans.length}: ${clans.join(", ") || "none"})`,
    );
  const [clanA, clanB] = clans as [string, string];
  return {
    clanA,
    clanB,
    players: list.map((p) => ({
      name: p.name,
      team: p.clan.toLowerCase() === clanA.toLowerCase() ? ("A" as const) : ("B" as const),
      ip: p.ip,
    })),
  };
}

function wholeNumber(opts: Options, flag: string, fallback?: number): number | undefined {
  const v = stringOpt(opts, flag);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v.trim())) throw new UsageError(`--${flag}: "${v}" is not a whole number`);
  return Number(v);
}

/** The booking request from the flags, checked with the form's own rules (messages name the field). */
async function request(api: Api, opts: Options) {
  const game = stringOpt(opts, "game");
  if (!game) throw new UsageError("--game: required, e.g. --game halo");
  const start = stringOpt(opts, "start");
  if (!start) throw new UsageError("--start: required, an ISO-8601 time, e.g. --start 2026-12-08T18:00:00Z");
  const startsAt = new Date(start);
  if (Number.isNaN(startsAt.getTime())) throw new UsageError(`--start: "${start}" is not an ISO-8601 date and time`);
  const maxRttMs = wholeNumber(opts, "max-rtt");
  if (maxRttMs !== undefined && (maxRttMs < MIN_MAX_RTT_MS || maxRttMs > MAX_MAX_RTT_MS))
    throw new UsageError(`--max-rtt: must be ${MIN_MAX_RTT_MS} to ${MAX_MAX_RTT_MS} ms`);
  const service = await named(api.lookup.service({ slug: game }), "--game");
  const parsed = matchRequest.safeParse({
    serviceId: service.id,
    ...players(opts),
    startsAt,
    durationMinutes: wholeNumber(opts, "minutes", 60),
    ...(maxRttMs !== undefined ? { maxRttMs } : {}),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const flag = { startsAt: "--start", durationMinutes: "--minutes", maxRttMs: "--max-rtt" }[String(issue.path[0])];
    throw new UsageError(`${flag ?? `--player (${issue.path.join(".")})`}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * `matches …`: bookings of fair match servers through the same API as the Matches page, as the
 * token's user (a clan admin books and sees their own; the demo's is `.data/demo-tokens/clan.token`).
 */
export const matchesCommand: CliCommand = {
  noun: "matches",
  aliases: ["match"],
  usage: `  matches list [--json]
  matches preview --game SLUG --player NAME,CLAN,IP [--player …] --start ISO-8601 [--minutes N] [--max-rtt MS] [--measure] [--json]
                  (--measure: ping the players from the top 3 servers; each player's measured RTT beside the model's)
  matches book    (the same flags) [--host HOST, default the fairest] [--json]   prints the booking and its id
  matches cancel ID`,
  options: {
    game: { type: "string" },
    player: { type: "string", multiple: true },
    start: { type: "string" },
    "max-rtt": { type: "string" },
    measure: { type: "boolean" },
  },
  async run({ api, verb, args, opts }) {
    switch (verb) {
      case "list": {
        const rows = (await api.matches.list()).map(row);
        if (opts.json) return out(rows);
        if (rows.length === 0) return console.log("No bookings.");
        for (const r of rows)
          console.log(
            `${r.id}  ${r.state.padEnd(9)} ${r.startsAt.toISOString()}  ${r.clanA} vs ${r.clanB} on ${r.host} (${r.city})${r.address ? `  connect to ${r.address}:${r.port} (${r.dnsName})` : ""}${r.failure ? `  failed: ${r.failure}` : ""}`,
          );
        return;
      }
      case "preview": {
        const req = await request(api, opts);
        const preview = opts.measure ? await api.matches.measurePings(req) : await api.matches.preview(req);
        if (opts.json) return out(preview);
        if (preview.candidates.length === 0) return console.log("No server can host this match now.");
        for (const c of preview.candidates) {
          console.log(
            `${c.hostName.padEnd(24)} ${c.city.padEnd(16)} C_s ${c.closeness.toFixed(1).padStart(6)} ms  max ${Math.round(c.maxRtt)} ms  mean ${Math.round(c.meanRtt)} ms${c.clanDifference === null ? "" : `  clans differ by ${Math.round(c.clanDifference)} ms`}${c.pareto ? "  (Pareto)" : ""}`,
          );
          if (opts.measure) preview.players.forEach((p, i) => console.log(`    ${p.name}: ${measuredVsModel(c, i)}`));
        }
        const { equiPing, lowestAverage } = preview.rules;
        if (equiPing && lowestAverage)
          console.log(
            `\nEqui-ping: ${equiPing.hostName} (C_s ${equiPing.closeness.toFixed(1)} ms, mean ${Math.round(equiPing.meanRtt)} ms); lowest average under the cap: ${lowestAverage.hostName} (C_s ${lowestAverage.closeness.toFixed(1)} ms, mean ${Math.round(lowestAverage.meanRtt)} ms).`,
          );
        return;
      }
      case "book": {
        const req = await request(api, opts);
        const preview = await api.matches.preview(req);
        const hostName = stringOpt(opts, "host");
        const chosen = hostName ? preview.candidates.find((c) => c.hostName === hostName) : preview.candidates[0];
        if (!chosen)
          throw new UsageError(
            hostName
              ? `--host: ${hostName} is not among the servers that can host this match (matches preview lists them)`
              : "No server can host this match now.",
          );
        const booked = await api.matches.book({ ...req, hostId: chosen.hostId });
        const listed = (await api.matches.list()).find((m) => m.id === booked.id);
        const r = listed ? row(listed) : { id: booked.id, state: booked.status, host: chosen.hostName };
        if (opts.json) return out(r);
        return console.log(
          `Booked ${booked.id} on ${chosen.hostName} (${chosen.city}), C_s ${chosen.closeness.toFixed(1)} ms.`,
        );
      }
      case "cancel": {
        const id = args[0];
        if (!id) throw new UsageError("name the booking: matches cancel ID (matches list shows the ids)");
        const after = await api.matches.cancel({ matchId: id });
        if (opts.json) return out({ id: after.id, state: after.status });
        return console.log(`Cancelled ${after.id}.`);
      }
      default:
        throw new UsageError(`unknown command matches ${verb ?? ""}`.trim());
    }
  },
};
