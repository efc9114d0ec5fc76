import { type CliCommand, named, out, stringOpt, UsageError } from "./command";

function wholeNumber(opts: Record<string, unknown>, name: string): number {
  const raw = stringOpt(opts as never, name);
  if (raw === undefined) throw new UsageError(`--${name} is required`);
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** `demand …`: flash crowds in the sim lab. */
export const demandCommand: CliCommand = {
  noun: "demand",
  // A value starting with "-" must be joined to its option (Node's parseArgs): say so in the usage.
  usage: `  demand inject --at LAT,LON --service SLUG --rate REQUESTS_PER_MINUTE --minutes M   (south or west: --at=-1.29,36.82)`,
  options: { at: { type: "string" }, rate: { type: "string" }, minutes: { type: "string" } },
  async run({ api, verb, opts }) {
    if (verb !== "inject") throw new UsageError(`unknown command demand ${verb ?? ""}`.trim());
    const m = /^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/.exec(stringOpt(opts, "at") ?? "");
    if (!m) throw new UsageError("--at must be LAT,LON in decimal degrees, e.g. --at 48.86,2.35");
    const slug = stringOpt(opts, "service");
    if (!slug) throw new UsageError("--service is required (a service slug such as map)");
    const service = await named(api.lookup.service({ slug }), "--service");
    const crowd = await api.demand.injectFlashCrowd({
      serviceId: service.id,
      lat: Number(m[1]),
      lon: Number(m[2]),
      rate: wholeNumber(opts, "rate"),
      minutes: wholeNumber(opts, "minutes"),
    });
    out({
      id: crowd.id,
      service: slug,
      lat: crowd.lat,
      lon: crowd.lon,
      rate: crowd.perMinute,
      startsAt: crowd.startsAt,
      endsAt: crowd.endsAt,
    });
  },
};
