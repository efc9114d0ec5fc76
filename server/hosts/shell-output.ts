import { segmentOfInterface } from "./segments";
import { OutputShapeError } from "./virsh-output";

/**
 * Strict parsers for the coreutils / iputils commands the driver runs (always under
 * LC_ALL=C, so the texts below are the untranslated ones).
 */

export interface DiskSpace {
  availableBytes: number;
  sizeBytes: number;
}

export interface PingResult {
  transmitted: number;
  received: number;
  /** null when nothing came back. */
  minMs: number | null;
  avgMs: number | null;
  maxMs: number | null;
}

function safeUint(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new OutputShapeError(`${what} is not an integer: ${text}`);
  return n;
}

/** `df -B1 --output=avail,size -- DIR` */
export function parseDf(stdout: string): DiskSpace {
  const all = stdout.replace(/\n$/, "").split("\n");
  if (all.length !== 2 || !/^ *Avail +1B-blocks$/.test(all[0]!)) {
    throw new OutputShapeError('expected the "Avail 1B-blocks" header and one row');
  }
  const m = /^ *(\d+) +(\d+)$/.exec(all[1]!);
  if (!m) throw new OutputShapeError("expected two byte counts");
  return { availableBytes: safeUint(m[1]!, "Avail"), sizeBytes: safeUint(m[2]!, "1B-blocks") };
}

/** `stat -c %s -- FILE` */
export function parseStatSize(stdout: string): number {
  const m = /^(\d+)\n$/.exec(stdout);
  if (!m) throw new OutputShapeError("expected one size in bytes");
  return safeUint(m[1]!, "size");
}

/** `sha256sum -- FILE` for one file whose name the caller knows. */
export function parseSha256sum(stdout: string, path: string): string {
  const m = /^([0-9a-f]{64}) {2}(.*)\n$/.exec(stdout);
  if (!m) throw new OutputShapeError('expected "<64 hex digits>  <file>"');
  if (m[2] !== path) throw new OutputShapeError(`checksum is for ${JSON.stringify(m[2])}, not ${JSON.stringify(path)}`);
  return m[1]!;
}

/** `openssl dgst -sha256 -r -- FILE`: coreutils layout with the binary-mode '*'. */
export function parseOpensslSha256(stdout: string, path: string): string {
  const m = /^([0-9a-f]{64}) \*(.*)\n$/.exec(stdout);
  if (!m) throw new OutputShapeError('expected "<64 hex digits> *<file>"');
  if (m[2] !== path) throw new OutputShapeError(`checksum is for ${JSON.stringify(m[2])}, not ${JSON.stringify(path)}`);
  return m[1]!;
}

/**
 * The files a checksum tool's error output says do not exist, of those it was given:
 * coreutils' `sha256sum: FILE: No such file or directory` and OpenSSL 3's
 * `Can't open "FILE" for reading, No such file or directory`. Names are matched whole, so
 * `x.image` is not taken for a missing `x.image.part`.
 */
export function missingFiles(stderr: string, files: readonly string[]): string[] {
  const lines = new Set(stderr.split("\n"));
  const said = (f: string) =>
    [...lines].some(
      (l) =>
        l.endsWith(`: ${f}: No such file or directory`) ||
        l.endsWith(`Can't open "${f}" for reading, No such file or directory`),
    );
  return files.filter(said);
}

/** iputils `ping -n -q` summary; exit code 1 (no reply) still has the statistics line. */
export function parsePing(stdout: string): PingResult {
  const stats = /^(\d+) packets transmitted, (\d+) received(?:, .*)?$/m.exec(stdout);
  if (!stats) throw new OutputShapeError('missing "<n> packets transmitted, <m> received"');
  const transmitted = safeUint(stats[1]!, "transmitted");
  const received = safeUint(stats[2]!, "received");
  const rtt = /^rtt min\/avg\/max\/mdev = ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms$/m.exec(stdout);
  if (received > 0 && !rtt) throw new OutputShapeError('replies received but no "rtt min/avg/max/mdev" line');
  return {
    transmitted,
    received,
    minMs: rtt ? Number(rtt[1]) : null,
    avgMs: rtt ? Number(rtt[2]) : null,
    maxMs: rtt ? Number(rtt[3]) : null,
  };
}

/**
 * `ip -j link show type bridge` (iproute2): the owner segments whose bridge the host has,
 * ascending. A segment's bridge is `vmxs<n>` (server/hosts/segments.ts); other bridges
 * (libvirt's virbr0, docker0, …) are not segments.
 */
export function parseBridgeSegments(stdout: string): number[] {
  let links: unknown;
  try {
    links = JSON.parse(stdout);
  } catch {
    throw new OutputShapeError("not JSON");
  }
  if (!Array.isArray(links)) throw new OutputShapeError("not a list of links");
  const segments = new Set<number>();
  for (const link of links) {
    const name = (link as { ifname?: unknown } | null)?.ifname;
    if (typeof name !== "string") throw new OutputShapeError("a link without a name");
    const segment = segmentOfInterface(name);
    if (segment !== null) segments.add(segment);
  }
  return [...segments].sort((a, b) => a - b);
}
