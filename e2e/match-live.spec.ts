import { expect, test } from "@playwright/test";
import { vmatrixCli } from "./cli";
import { withE2eDatabase } from "./database";
import { signIn } from "./helpers";

// At a booked match's start time (moved to now here), the Oracle resumes a game VM from
// the Nest on the booked host in the sim lab, its hosting network's edge gives it a public
// address and port (destination NAT), and the clan admin sees where to connect; ending the
// match early or cancelling it while its server starts returns the VM to the Nest.
test.describe.configure({ mode: "serial", timeout: 180_000 });

/** The match's game VM, where it is, and its NAT binding if it has one. */
async function matchVm(matchId: string) {
  return withE2eDatabase(async (db) => {
    const { rows } = await db.query<{
      name: string;
      phase: string;
      power: string;
      host: string | null;
      publicAddress: string | null;
      privateAddress: string | null;
    }>(
      `SELECT v.name, v.phase, v.power, h.name AS host, b."publicAddress", v."privateAddress"
         FROM "Match" m JOIN "Vm" v ON v.id = m."vmId" LEFT JOIN "Host" h ON h.id = v."hostId"
         LEFT JOIN "NetworkBinding" b ON b."vmId" = v.id AND b.kind = 'NAT'
        WHERE m.id = $1`,
      [matchId],
    );
    return rows[0];
  });
}

let bookedHost = "";

test("a booked match goes live at start time with a public address and port to connect to; ended early, its server goes back to the Nest", async ({
  page,
}) => {
  const booked = await withE2eDatabase(async (db) => {
    const { rows } = await db.query<{ id: string; host: string }>(
      `UPDATE "Match" m SET "startsAt" = now(), "endsAt" = now() + interval '1 hour'
         FROM "Host" h WHERE h.id = m."hostId" AND m."clanA" = 'Red Clan' AND m.status = 'SCHEDULED'
       RETURNING m.id, h.name AS host`,
    );
    return rows[0];
  });
  expect(booked, "the seeded Red Clan vs Blue Clan match").toBeTruthy();
  bookedHost = booked!.host;

  await signIn(page, "clan@vmatrix.test");
  await page.goto("/matches");
  const row = page.getByTestId("matches").locator("tr", { hasText: "Red Clan vs Blue Clan" });
  // The page keeps reading while a match starts: no reload needed.
  await expect(row).toContainText("Live", { timeout: 120_000 });
  await expect(row).toContainText(booked!.host);

  // The game VM runs on the booked host; players connect to its public address, not its private one.
  const vm = await matchVm(booked!.id);
  expect(vm).toMatchObject({ phase: "PRODUCTION", power: "RUNNING", host: booked!.host });
  expect(vm!.publicAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  const connect = row.getByTestId("match-connect");
  await expect(connect).toContainText(`Connect to ${vm!.publicAddress}:2302`);
  await expect(connect).toContainText(`match-${booked!.id}.vmatrix.test`);
  await expect(connect).not.toContainText(vm!.privateAddress!);

  // The edge lets a player's UDP datagram in, translated to the game server (the operator's CLI).
  const probe = JSON.parse(
    await vmatrixCli(["network", "probe", vm!.publicAddress!, "2302", "--proto", "udp", "--json"]),
  ) as { verdict: string; dnatTo: string | null };
  expect(probe).toMatchObject({ verdict: "accept", dnatTo: `${vm!.privateAddress}:2302` });

  // Ended early by the clan admin: asked first, then the server goes back to the Nest and the address is released.
  await row.getByRole("button", { name: "End match now" }).click();
  await row.getByRole("button", { name: "Yes, cancel" }).click();
  await expect(row).toContainText("Cancelled");
  await expect(row.getByTestId("match-connect")).toHaveCount(0);
  await expect.poll(async () => (await matchVm(booked!.id))?.phase, { timeout: 60_000 }).toBe("NEST");
  expect((await matchVm(booked!.id))?.publicAddress).toBeNull();
});

test("a match cancelled while its server is being prepared: the server goes back to the Nest, the host is free", async ({
  page,
}) => {
  expect(bookedHost, "the first test's host, free again").not.toBe("");
  // Starts in 100 s: within the Oracle's two-minute lead, so its server is prepared now and the match is not live yet.
  const matchId = await withE2eDatabase(async (db) => {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO "Match" (id, "serviceId", "hostId", "clanA", "clanB", "startsAt", "endsAt", "bookedById", "updatedAt")
       SELECT 'e2e' || md5(random()::text), m."serviceId", h.id, 'Green Clan', 'Gold Clan',
              now() + interval '100 seconds', now() + interval '1 hour', m."bookedById", now()
         FROM "Match" m, "Host" h WHERE m."clanA" = 'Red Clan' AND h.name = $1
        LIMIT 1
       RETURNING id`,
      [bookedHost],
    );
    return rows[0]!.id;
  });

  await signIn(page, "clan@vmatrix.test");
  await page.goto("/matches");
  const row = page.getByTestId("matches").locator("tr", { hasText: "Green Clan vs Gold Clan" });
  await expect(row).toContainText("Preparing", { timeout: 60_000 });
  await row.getByRole("button", { name: "Cancel booking" }).click();
  await row.getByRole("button", { name: "Yes, cancel" }).click();
  await expect(row).toContainText("Cancelled");

  // Its server, started for nothing, goes back once its start has finished; nothing is left on the host.
  await expect.poll(async () => (await matchVm(matchId))?.phase, { timeout: 90_000 }).toBe("NEST");
  const left = await withE2eDatabase(async (db) => {
    const { rows } = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM "Vm" v JOIN "Host" h ON h.id = v."hostId" WHERE h.name = $1 AND v.phase = 'PRODUCTION'`,
      [bookedHost],
    );
    return Number(rows[0]!.n);
  });
  expect(left).toBe(0);
});
