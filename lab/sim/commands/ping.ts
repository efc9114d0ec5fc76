import { isIP } from "node:net";
import type { Builtin, SimContext } from "../context";
import { KILLED } from "../context";
import { write } from "../streams";
import { parseArgs, UsageError } from "./args";

/**
 * iputils `ping` on a sim host. Replies come from the lab's RTT source (by default the
 * sim's ground truth, lab/sim/ground-truth.ts: its city to the address's place, one value
 * per probe) after the time a real run takes; addresses it cannot place do not answer
 * (100% loss, exit 1), as an unreachable address would.
 */
export const ping: Builtin = async (argv, io, ctx) => {
  let args;
  try {
    args = parseArgs("ping", argv.slice(1), { flags: ["n", "q"], values: ["c", "i", "W"] });
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    await write(io.stderr, `${e.message}\n`);
    return 2;
  }
  const count = Number(args.options.get("c") ?? 4);
  const interval = Number(args.options.get("i") ?? 1);
  const wait = Number(args.options.get("W") ?? 10);
  const dest = args.operands[0];
  if (!dest || args.operands.length > 1) {
    await write(io.stderr, "ping: usage error: Destination address required\n");
    return 1;
  }
  if (!args.options.has("q") || !Number.isInteger(count) || count < 1 || !(interval >= 0.2)) {
    await write(
      io.stderr,
      "ping: the sim host supports only quiet runs: ping -n -q -c N [-i >=0.2] [-W S] -- ADDRESS\n",
    );
    return 2;
  }
  const ip = dest === "localhost" ? "127.0.0.1" : dest;
  if (!isIP(ip)) {
    await write(io.stderr, `ping: ${dest}: Name or service not known\n`);
    return 2;
  }
  const samples = await probes(ctx, ip, count);
  const elapsed = (count - 1) * interval * 1000 + (samples.length === 0 ? wait * 1000 : Math.max(...samples));
  const aborted = await sleep(elapsed, ctx.signal);
  if (aborted) return KILLED;

  const lines = [`PING ${dest} (${ip}) 56(84) bytes of data.`, "", `--- ${dest} ping statistics ---`];
  const loss = Math.round((100 * (count - samples.length)) / count);
  lines.push(
    `${count} packets transmitted, ${samples.length} received, ${loss}% packet loss, time ${Math.round((count - 1) * interval * 1000)}ms`,
  );
  if (samples.length > 0) {
    const avg = samples.reduce((a, b) => a + b, 0) / samples.length;
    const mdev = Math.sqrt(samples.reduce((a, b) => a + (b - avg) ** 2, 0) / samples.length);
    const f = (n: number) => n.toFixed(3);
    lines.push(`rtt min/avg/max/mdev = ${f(Math.min(...samples))}/${f(avg)}/${f(Math.max(...samples))}/${f(mdev)} ms`);
  }
  await write(io.stdout, lines.join("\n") + "\n");
  return samples.length > 0 ? 0 : 1;
};

/** The replies, one RTT source call per probe (so its jitter shows in min/avg/max); a null is a lost probe. */
async function probes(ctx: SimContext, ip: string, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const rtt = await ctx.host.rttMs(ip);
    if (rtt !== null) samples.push(rtt);
  }
  return samples;
}

function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(true);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(false);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
