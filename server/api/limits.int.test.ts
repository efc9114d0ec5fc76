import { createServer, type Server } from "node:http";
import { inProcessCalls } from "../calls/kinds";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { TRPCError } from "@trpc/server";
import { Logger, runMigrations } from "graphile-worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bookingRequest, bookingWorld } from "../../test/booking";
import { createTestDatabase } from "../../test/db";
import { makeWorld } from "../../test/fixtures";
import type { Role } from "../auth/roles";
import type { Db } from "../db/client";
import { demandIngestHandler, nearestHandler } from "../demand/http";
import type { HostDriver } from "../hosts/driver";
import { matchPass } from "../loops/matches";
import { createCaller } from "./root";
import { createInnerContext } from "./trpc";

// Small limits, so a few calls reach them (config() is read at the first call, after this).
process.env.MEASURE_PINGS_PER_HOUR = "2";
process.env.BOOKING_MAX_OPEN_PER_USER = "2";
process.env.BOOKING_MAX_LEAD_DAYS = "20";
process.env.BOOKING_MAX_MINUTES = "120";

let db: Db;
let url: string;
let drop: () => Promise<void>;
beforeAll(async () => {
  ({ db, url, drop } = await createTestDatabase());
  // The route handler opens the product's own database client from the environment.
  process.env.DATABASE_URL = url;
});
afterAll(() => drop());

type User = { id: string; email: string; name: string; role: Role };
const noPings = { ping: async () => Promise.reject(new Error("no route")) } as unknown as HostDriver;
const callerFor = (user: User) =>
  createCaller(
    createInnerContext({ db, user, oracle: inProcessCalls({ db: db, driver: noPings, edges: () => null }) }),
  );

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCError);
  return { code: (err as TRPCError).code, message: (err as TRPCError).message };
}

describe("tRPC request caps over HTTP", () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    // The real route handler (app/api/trpc) behind a plain Node HTTP server.
    const { POST } = await import("../../app/api/trpc/[trpc]/route");
    server = createServer((req, res) => {
      void (async () => {
        const headers = new Headers();
        for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, [v].flat().join(", "));
        const hasBody = req.method !== "GET" && req.method !== "HEAD";
        const response = await POST(
          new Request(new URL(req.url ?? "/", "http://127.0.0.1"), {
            method: req.method,
            headers,
            body: hasBody ? (Readable.toWeb(req) as ReadableStream) : undefined,
            duplex: "half",
          } as RequestInit),
        );
        // A refused body may be left unread: the connection is not reused after it.
        res.writeHead(response.status, { ...Object.fromEntries(response.headers), connection: "close" });
        res.end(Buffer.from(await response.arrayBuffer()));
      })().catch((err: unknown) => res.writeHead(500).end(String(err)));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/trpc`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const batchOf = (n: number) => `${base}/${Array.from({ length: n }, () => "me").join(",")}?batch=1`;
  const messages = async (res: Response) =>
    ((await res.json()) as { error: { json: { message: string } } }[]).map((r) => r.error.json.message);

  it("refuses a batch of more than 20 calls with 413 and one line per call; 20 go through", async () => {
    const over = await fetch(batchOf(21));
    expect(over.status).toBe(413);
    const said = await messages(over);
    expect(said).toHaveLength(21);
    expect(said[0]).toBe("A batch may hold at most 20 calls; this one holds 21: send them in smaller batches.");

    // Within the cap the request reaches tRPC, which answers for itself (nobody is signed in).
    const within = await fetch(batchOf(20));
    expect(within.status).toBe(401);
  });

  it("refuses a body over 1 MB with 413, whether it declares its length or is chunked", async () => {
    const big = JSON.stringify({ json: { id: "x".repeat(1_100_000) } });
    const declared = await fetch(`${base}/alerts.acknowledge`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: big,
    });
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { error: { json: { message: string } } }).error.json.message).toBe(
      "The request body is larger than 1048576 bytes: send less in one request.",
    );

    // A streamed body carries no Content-Length: it is counted as it arrives.
    const chunks = [big.slice(0, 600_000), big.slice(600_000)];
    const streamed = await fetch(`${base}/alerts.acknowledge`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new ReadableStream({
        pull(controller) {
          const next = chunks.shift();
          if (next === undefined) controller.close();
          else controller.enqueue(new TextEncoder().encode(next));
        },
      }),
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);

    // A small body reaches tRPC.
    const small = await fetch(`${base}/alerts.acknowledge`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ json: { id: "x" } }),
    });
    expect(small.status).toBe(401);
  });
});

describe("heavy queries are bounded", () => {
  it("refuses a heat map or a chart that would be too big, naming the field", async () => {
    const w = await makeWorld(db);
    const op = callerFor(w.operator);
    const week = { from: new Date(Date.now() - 7 * 86_400_000), to: new Date() };
    expect(
      await refusal(op.demand.heat({ serviceId: w.service.id, ...week, maxCellsPerBucket: 20_000 })),
    ).toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringContaining("672 buckets × 20000 cells is 13440000 cells, more than 500000"),
    });
    // The map's default (a day of 500 cells per bucket) and a week of 500 are fine.
    await expect(op.demand.heat({ serviceId: w.service.id, ...week })).resolves.toMatchObject({ buckets: [] });
    expect(
      await refusal(
        op.utilization.chart({ from: new Date(Date.now() - 86_400_000), to: new Date(), width: 4000, maxHosts: 500 }),
      ),
    ).toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringContaining("width × maxHosts may be at most 200000"),
    });
    // One hosting network's chart has a series per host: 51 hosts at 4000 pixels are too many points.
    await db.host.createMany({
      data: Array.from({ length: 49 }, (_, i) => ({
        name: `${w.hn.slug}-extra-${i}`,
        hostingNetworkId: w.hn.id,
        role: "PRODUCTION" as const,
        sshHost: "127.0.0.1",
        sshUser: "vmatrix",
        sshKeyRef: "file:/dev/null",
      })),
    });
    const oneNetwork = { from: new Date(Date.now() - 86_400_000), to: new Date(), hostingNetwork: w.hn.slug };
    expect(await refusal(op.utilization.chart({ ...oneNetwork, width: 4000 }))).toEqual({
      code: "BAD_REQUEST",
      message: `hostingNetwork: ${w.hn.slug} has 51 hosts; at width 4000 that is more than 200000 points: ask for a narrower plot`,
    });
    await expect(op.utilization.chart({ ...oneNetwork, width: 1000 })).resolves.toMatchObject({ hosts: [] });
  });

  it("pages hosts, operations and the audit log with cursors, and refuses a cursor that names nothing", async () => {
    const w = await makeWorld(db);
    const vm = await db.vm.create({ data: { name: `${w.service.slug}-p`, serviceId: w.service.id, phase: "NEST" } });
    for (let i = 0; i < 5; i++)
      await db.operation.create({ data: { kind: "RESTART", state: "SUCCEEDED", vmId: vm.id, reason: `op ${i}` } });
    const op = callerFor(w.operator);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await op.operations.list({ vmName: vm.name, limit: 2, cursor });
      seen.push(...page.map((o) => o.reason));
      if (page.length < 2) break;
      cursor = page[page.length - 1]!.id;
    }
    expect(seen).toEqual(["op 4", "op 3", "op 2", "op 1", "op 0"]);
    expect(await refusal(op.operations.list({ cursor: "nope" }))).toEqual({
      code: "BAD_REQUEST",
      message: "cursor: no operation nope.",
    });

    // Hosts, grouped by hosting network, a page of hosts at a time: every host once, in order.
    const hostIds: string[] = [];
    let hostCursor: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = (await op.hosts.list({ limit: 3, cursor: hostCursor })).flatMap((n) => n.hosts.map((h) => h.id));
      hostIds.push(...page);
      if (page.length < 3) break;
      hostCursor = page[page.length - 1];
    }
    const all = (await op.hosts.list()).flatMap((n) => n.hosts.map((h) => h.id));
    expect(all.length).toBeGreaterThan(3);
    expect(hostIds).toEqual(all);
    expect(await refusal(op.hosts.list({ cursor: "nope" }))).toEqual({
      code: "BAD_REQUEST",
      message: "cursor: no host with id nope.",
    });

    for (let i = 0; i < 3; i++)
      await db.auditEvent.create({ data: { actorEmail: "t", action: `page.${i}`, entityType: "Test" } });
    const admin = callerFor(w.admin);
    const first = await admin.audit.list({ limit: 2 });
    const second = await admin.audit.list({ limit: 2, cursor: first[1]!.id.toString() });
    expect([...first, ...second].map((e) => e.action).slice(0, 3)).toEqual(["page.2", "page.1", "page.0"]);
  });
});

describe("measure pings", () => {
  it("runs MEASURE_PINGS_PER_HOUR times an hour per user, audits each run, then says when to retry", async () => {
    const w = await bookingWorld(db);
    const slot = { ...bookingRequest(w.game.id), candidates: 1 };
    const a = callerFor(w.clanA);
    await a.matches.measurePings(slot);
    await a.matches.measurePings(slot);
    const refused = await refusal(a.matches.measurePings(slot));
    expect(refused.code).toBe("TOO_MANY_REQUESTS");
    expect(refused.message).toMatch(
      /^Measure pings may run 2 times an hour per user \(MEASURE_PINGS_PER_HOUR\): try again in \d+ (s|min)\.$/,
    );
    const audited = await db.auditEvent.findMany({ where: { actorId: w.clanA.id, action: "match.measurePings" } });
    expect(audited).toHaveLength(2);
    expect(audited[0]).toMatchObject({ entityType: "Service", entityId: w.game.id, after: { candidates: 1 } });
    // Another user has a count of their own.
    await expect(callerFor(w.admin).matches.measurePings(slot)).resolves.toMatchObject({
      measurement: expect.any(String),
    });
  });
});

describe("booking quotas of a clan admin", () => {
  it("refuses a start too far ahead and a match too long, naming the field", async () => {
    const w = await bookingWorld(db);
    const a = callerFor(w.clanA);
    const far = bookingRequest(w.game.id, { startsAt: new Date(Date.now() + 25 * 86_400_000) });
    expect(await refusal(a.matches.book({ ...far, hostId: w.hosts.denverFree.id }))).toMatchObject({
      code: "BAD_REQUEST",
      message: "Start must be at most 20 days ahead",
    });
    const long = bookingRequest(w.game.id, { durationMinutes: 150 });
    expect(await refusal(a.matches.book({ ...long, hostId: w.hosts.denverFree.id }))).toMatchObject({
      code: "BAD_REQUEST",
      message: "Duration must be at most 120 minutes",
    });
    // An administrator's booking is not held to a customer's quota.
    await expect(callerFor(w.admin).matches.book({ ...far, hostId: w.hosts.denverFree.id })).resolves.toMatchObject({
      bookedById: w.admin.id,
    });
    expect(await db.match.count({ where: { bookedById: w.clanA.id } })).toBe(0);
  });

  it("holds a clan admin to BOOKING_MAX_OPEN_PER_USER open bookings; cancelling one makes room", async () => {
    const w = await bookingWorld(db);
    const a = callerFor(w.clanA);
    const day = (d: number) => ({
      ...bookingRequest(w.game.id, { startsAt: new Date(Date.now() + d * 86_400_000) }),
      hostId: w.hosts.dallasFree.id,
    });
    const first = await a.matches.book(day(1));
    await a.matches.book(day(2));
    const refused = await refusal(a.matches.book(day(3)));
    expect(refused.code).toBe("TOO_MANY_REQUESTS");
    expect(refused.message).toBe(
      `You hold 2 open bookings, the most a clan admin may (BOOKING_MAX_OPEN_PER_USER): cancel one, or book again after ${first.endsAt.toISOString()} when the first of them ends.`,
    );
    expect(await db.match.count({ where: { bookedById: w.clanA.id } })).toBe(2);
    // Another clan admin has a quota of their own.
    await expect(callerFor(w.clanB).matches.book(day(3))).resolves.toMatchObject({ bookedById: w.clanB.id });

    await a.matches.cancel({ matchId: first.id });
    await expect(a.matches.book(day(4))).resolves.toMatchObject({ bookedById: w.clanA.id });
  });
});

describe("demand ingestion", () => {
  it("answers 429 with Retry-After once a token has sent its batches for the minute", async () => {
    const token = "t".repeat(24);
    const ingest = demandIngestHandler({
      db: () => db,
      token: () => token,
      rate: () => ({ limit: 2, windowMs: 60_000 }),
    });
    const post = () =>
      ingest(
        new Request("http://127.0.0.1/api/demand", {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ samples: [] }),
        }),
      );
    expect((await post()).status).not.toBe(429);
    expect((await post()).status).not.toBe(429);
    const refused = await post();
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(((await refused.json()) as { error: string }).error).toMatch(
      /^This token may send 2 batches a minute \(DEMAND_INGEST_PER_MINUTE\): try again in \d+ s, or send bigger batches less often\.$/,
    );
    // A wrong token is refused as before (401), not counted against the real one.
    const wrong = await ingest(
      new Request("http://127.0.0.1/api/demand", {
        method: "POST",
        headers: { authorization: "Bearer nope", "content-type": "application/json" },
        body: "{}",
      }),
    );
    expect(wrong.status).toBe(401);
  });
});

describe("nearest replica questions", () => {
  it("answer 429 with Retry-After once a token has asked its questions for the minute, counted apart from ingestion", async () => {
    const token = "n".repeat(24);
    const rate = () => ({ limit: 2, windowMs: 60_000 });
    const nearest = nearestHandler({ db: () => db, token: () => token, rate });
    const ingest = demandIngestHandler({ db: () => db, token: () => token, rate });
    const ask = () =>
      nearest(
        new Request("http://127.0.0.1/api/nearest?service=no-such-service&lat=1&lon=1", {
          headers: { authorization: `Bearer ${token}` },
        }),
      );
    expect((await ask()).status).toBe(404);
    expect((await ask()).status).toBe(404);
    const refused = await ask();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await refused.json()) as { error: string }).error).toMatch(
      /^This token may send 2 questions a minute \(NEAREST_PER_MINUTE\): try again in \d+ s, or cache answers for their TTL\.$/,
    );
    // The same token's demand batches have their own count.
    const batch = await ingest(
      new Request("http://127.0.0.1/api/demand", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ samples: [] }),
      }),
    );
    expect(batch.status).not.toBe(429);
  });
});

describe("operation reasons", () => {
  it("name a match by its id, never by its clans", async () => {
    const w = await bookingWorld(db);
    const match = await db.match.create({
      data: {
        serviceId: w.game.id,
        hostId: w.hosts.denverFree.id,
        clanA: "Hidden Red",
        clanB: "Hidden Blue",
        startsAt: new Date(),
        endsAt: new Date(Date.now() + 3_600_000),
        bookedById: w.clanA.id,
      },
    });
    // The operations queue (the oracle installs it) and the game's pre-booted VM in a Nest that answers.
    await runMigrations({ connectionString: url, logger: new Logger(() => () => undefined) });
    const spare = await db.vm.findFirstOrThrow({ where: { serviceId: w.game.id } });
    await db.host.update({ where: { id: spare.hostId! }, data: { status: "UP", hostKeyTrust: "TRUSTED" } });
    expect((await matchPass(db)).preparing, (await db.match.findUnique({ where: { id: match.id } }))?.error ?? "").toBe(
      1,
    );
    const op = await db.operation.findFirstOrThrow({ where: { reason: { startsWith: `match ${match.id}:` } } });
    expect(op.reason).toBe(`match ${match.id}: game server on ${w.hosts.denverFree.name}`);
  });
});
