import { beforeAll, describe, expect, it } from "vitest";
import { bookingWorld, startsAt } from "../../test/booking";
import { withCliWorld } from "../../test/run-cli";

// `matches …` as a clan's bot runs it: over the API with the clan admin's token, the form's
// rules on the flags, a booking printed with its id, listed, and cancelled.
const t = withCliWorld();
let w: Awaited<ReturnType<typeof bookingWorld>>;
let clanToken: string;
beforeAll(async () => {
  w = await bookingWorld(t.db);
  clanToken = await t.api.tokenFor(w.clanA.id);
});
const asClan = (...args: string[]) => t.api.cliWith({ VMATRIX_TOKEN: clanToken }, ...args);
const matchFlags = () => [
  "--game",
  w.game.slug,
  "--player",
  "red-ny,Red Clan,12.14.0.10",
  "--player",
  "blue-la,Blue Clan,12.42.185.10",
  "--start",
  startsAt().toISOString(),
  "--minutes",
  "90",
];

describe("vmatrix matches", () => {
  it("previews, books the fairest server (printing the id), lists it and cancels it, as the clan admin", async () => {
    const preview = await asClan("matches", "preview", ...matchFlags(), "--json");
    expect(preview.code, preview.stderr).toBe(0);
    const ranked = JSON.parse(preview.stdout) as {
      candidates: {
        hostName: string;
        pareto: boolean;
        meanRtt: number;
        rttMs: number[];
        modelledMs: number[];
        measuredMs: (number | null)[];
      }[];
      rules: { equiPing: { hostName: string }; lowestAverage: { hostName: string; meanRtt: number } };
    };
    expect(ranked.candidates.map((c) => c.hostName)).toContain(w.hosts.denverFree.name);
    // The equi-ping choice beside the lowest-average rule's; the fairest is on the Pareto front.
    expect(ranked.rules.equiPing.hostName).toBe(ranked.candidates[0]!.hostName);
    expect(ranked.candidates[0]!.pareto).toBe(true);
    expect(ranked.rules.lowestAverage.meanRtt).toBe(Math.min(...ranked.candidates.map((c) => c.meanRtt)));
    // Per player, the model's RTT and the measured one: none before pings.
    expect(ranked.candidates[0]!.modelledMs).toEqual(ranked.candidates[0]!.rttMs);
    expect(ranked.candidates[0]!.measuredMs).toEqual([null, null]);

    const booked = await asClan("matches", "book", ...matchFlags(), "--json");
    expect(booked.code, booked.stderr).toBe(0);
    const booking = JSON.parse(booked.stdout) as Record<string, unknown>;
    expect(booking).toMatchObject({
      state: "SCHEDULED",
      host: ranked.candidates[0]!.hostName,
      clanA: "Red Clan",
      clanB: "Blue Clan",
      address: null,
      port: null,
      failure: null,
    });
    expect(typeof booking.id).toBe("string");
    expect(typeof booking.hostingNetwork).toBe("string");

    const listed = await asClan("matches", "list", "--json");
    expect((JSON.parse(listed.stdout) as { id: string }[]).map((m) => m.id)).toContain(booking.id);

    const cancelled = await asClan("matches", "cancel", String(booking.id));
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout.trim()).toBe(`Cancelled ${String(booking.id)}.`);
    expect(await t.db.match.findUniqueOrThrow({ where: { id: String(booking.id) } })).toMatchObject({
      status: "CANCELLED",
    });
  });

  it("refuses bad flags in one line naming the flag, and books nothing", async () => {
    const before = await t.db.match.count();
    const cases: [string[], string][] = [
      [
        [...matchFlags(), "--player", "zed,Green Clan,12.14.0.11"],
        "vmatrix: --player: the players must belong to exactly two clans (found 3: Red Clan, Blue Clan, Green Clan)",
      ],
      [
        [...matchFlags().slice(0, 2), "--player", "solo", ...matchFlags().slice(6)],
        'vmatrix: --player #1: "solo" is not NAME,CLAN,IP (e.g. Ann,Red,203.0.113.7)',
      ],
      [
        [...matchFlags().slice(0, -4), "--start", "tomorrow"],
        'vmatrix: --start: "tomorrow" is not an ISO-8601 date and time',
      ],
      [[...matchFlags().slice(0, -2), "--minutes", "5"], "vmatrix: --minutes: Duration must be at least 15 minutes"],
      [[...matchFlags(), "--max-rtt", "5000"], "vmatrix: --max-rtt: must be 10 to 1000 ms"],
      [["--game", "no-such-game", ...matchFlags().slice(2)], "vmatrix: --game: no service no-such-game"],
    ];
    for (const [flags, message] of cases) {
      const r = await asClan("matches", "book", ...flags);
      expect(r.code, r.stdout).toBe(1);
      expect(r.stderr.split("\n")[0]).toBe(message);
    }
    expect(await t.db.match.count()).toBe(before);
  });
});
