/**
 * The DNS server's queries for a service's name as demand (source DNS). A query only
 * counts into a bounded in-memory tally (server/demand/minute-tally.ts); a timer writes the
 * tally to the grid every few seconds in one statement. While the database cannot be
 * written (a restart) the counts are kept and retried at the next flush; counts older than
 * `maxRetryMs`, or that no longer fit, are dropped and counted, and the server keeps
 * answering throughout.
 */
import type { Db } from "../db/client";
import { aggregate, type LocatedSample } from "../demand/grid";
import { MinuteTally, type TallyEntry } from "../demand/minute-tally";
import { addToGrid } from "../demand/store";
import type { LatLon } from "../latency/model";

export interface DemandRecorderOptions {
  /** Places an address (offline GeoIP); null when it cannot. */
  locate: (ip: string) => LatLon | null;
  /** Default 5 s. */
  flushMs?: number;
  /** Most (name, minute, cell) keys held in memory (default 100,000: about 30 MB of heap, measured). */
  maxKeys?: number;
  /** Counts not written for this long are dropped (default 10 min). */
  maxRetryMs?: number;
  now?: () => number;
  /** Told of a failed flush and of dropped requests. */
  warn?: (obj: object, msg: string) => void;
}

export interface DemandRecorderStats {
  /** Requests recorded (located, for a name the server serves). */
  recorded: number;
  /** Queries whose client could not be placed. */
  unlocated: number;
  /** Requests dropped: the tally was full, or they waited past maxRetryMs. */
  dropped: number;
  failedFlushes: number;
}

/** Service ids by normalised DNS name (lowercase, no final dot). */
async function serviceIdsByName(db: Db): Promise<Map<string, string>> {
  const services = await db.service.findMany({
    where: { dnsName: { not: null } },
    select: { id: true, dnsName: true },
  });
  return new Map(services.map((s) => [s.dnsName!.toLowerCase().replace(/\.$/, ""), s.id]));
}

export function dnsDemandRecorder(db: Db, opts: DemandRecorderOptions) {
  const now = opts.now ?? Date.now;
  const maxRetryMs = opts.maxRetryMs ?? 10 * 60_000;
  const tally = new MinuteTally(opts.maxKeys ?? 100_000);
  let recorded = 0;
  let unlocated = 0;
  let expired = 0;
  let failedFlushes = 0;
  let timer: NodeJS.Timeout | null = null;
  let flushing: Promise<void> | null = null;

  async function write(entries: TallyEntry[]): Promise<void> {
    const ids = await serviceIdsByName(db);
    const samples: LocatedSample[] = [];
    for (const e of entries) {
      const serviceId = ids.get(e.name);
      // A name that is no longer a service's (renamed, a match's address) is not demand.
      if (serviceId) samples.push({ serviceId, at: new Date(e.minute), lat: e.lat, lon: e.lon, count: e.count });
    }
    const cells = aggregate(samples);
    if (cells.length > 0) await addToGrid(db, cells, "DNS");
  }

  async function flushOnce(): Promise<void> {
    const entries = tally.drain();
    if (entries.length === 0) return;
    try {
      await write(entries);
    } catch (err) {
      failedFlushes++;
      // Keep what is young enough for the next flush; the tally's bound still holds.
      const before = stats().dropped;
      for (const e of entries) {
        if (now() - e.minute > maxRetryMs) expired += e.count;
        else tally.add(e.name, e.minute, e, e.count);
      }
      opts.warn?.(
        {
          err: (err as Error).message,
          kept: tally.size,
          dropped: stats().dropped - before,
          droppedTotal: stats().dropped,
        },
        "dns demand not written: kept for the next flush",
      );
    }
  }

  const stats = (): DemandRecorderStats => ({ recorded, unlocated, dropped: expired + tally.dropped, failedFlushes });

  return {
    stats,
    /** Counts one query for `name` from `clientIp`; never waits and never throws. */
    record(name: string, clientIp: string): void {
      const place = opts.locate(clientIp);
      if (!place) {
        unlocated++;
        return;
      }
      if (tally.add(name, now(), place)) recorded++;
      else if (tally.dropped === 1 || tally.dropped % 10_000 === 0)
        opts.warn?.({ droppedTotal: stats().dropped }, "dns demand tally full: requests dropped");
    },
    /** Writes what is counted (one flush at a time). */
    flush(): Promise<void> {
      flushing ??= flushOnce().finally(() => (flushing = null));
      return flushing;
    },
    start(): void {
      timer ??= setInterval(() => void this.flush(), opts.flushMs ?? 5_000);
      timer.unref();
    },
    /** Stops the timer and writes what is left once. */
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = null;
      await this.flush();
    },
  };
}

export type DnsDemandRecorder = ReturnType<typeof dnsDemandRecorder>;
