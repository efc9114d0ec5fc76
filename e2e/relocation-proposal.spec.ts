import { expect, test } from "@playwright/test";
import { vmatrixCli } from "./cli";
import { farthestFreeNetwork, withE2eDatabase } from "./database";
import { signIn } from "./helpers";

// The Oracle's suggested moves from the browser (docs/operations.md, "The Oracle's suggested
// moves"): a flash crowd far from every map replica, a replica idle → `vms proposals` and the
// map's service panel suggest moving an idle replica, and Relocate (after its confirmation)
// requests the relocation.
test.describe.configure({ timeout: 240_000 });

interface Proposal {
  vm: string;
}

test("a crowd far from every map replica: the map suggests moving an idle replica there, and Relocate requests it", async ({
  page,
}) => {
  // A map replica serving (in rotation: the network loop binds the seeded replicas in its first
  // passes) with no operation running; map-002 is the lifecycle spec's.
  const vm = await withE2eDatabase(async (db) => {
    const { rows } = await db.query<{ id: string; name: string }>(
      `SELECT v.id, v.name FROM "Vm" v JOIN "Service" s ON s.id = v."serviceId"
        WHERE s.slug = 'map' AND v.phase = 'PRODUCTION' AND v.power = 'RUNNING' AND v."deletedAt" IS NULL
          AND v.name <> 'map-002'
          AND NOT EXISTS (SELECT 1 FROM "Operation" o WHERE o."vmId" = v.id AND o.state IN ('QUEUED', 'RUNNING', 'CANCELLING'))
        ORDER BY v.name LIMIT 1`,
    );
    return rows[0]!;
  });
  await expect
    .poll(
      () =>
        withE2eDatabase(async (db) => {
          const { rows } = await db.query<{ n: string }>(
            `SELECT count(*) AS n FROM "NetworkBinding" WHERE "vmId" = $1 AND state = 'APPLIED'`,
            [vm.id],
          );
          return Number(rows[0]!.n);
        }),
      { timeout: 120_000 },
    )
    .toBeGreaterThan(0);

  // The crowd goes to the hosting network (with a free production host) farthest from every
  // running map replica, as in placement-by-demand.spec.
  const far = await withE2eDatabase((db) => farthestFreeNetwork(db, "map"));

  // The sim lab spreads a service's load evenly over its replicas, wherever its users are
  // (scripts/lib/sim-load.ts), so its map replicas are all equally busy. A replica whose users
  // have gone elsewhere is idle: its metric samples say so here, outnumbering the sampler's
  // (one every 10 s) over the Oracle's 10-minute load window for the rest of this test.
  await withE2eDatabase((db) =>
    db.query(
      `INSERT INTO "MetricSample" (at, resolution, "vmId", "cpuPercent")
       SELECT now() - (i * interval '100 milliseconds'), 'RAW', $1, 1 FROM generate_series(1, 2000) i`,
      [vm.id],
    ),
  );
  await vmatrixCli([
    "demand",
    "inject",
    `--at=${far.lat},${far.lon}`,
    "--service",
    "map",
    "--rate",
    "1000000",
    "--minutes",
    "30",
  ]);

  // The CLI: the demand reaches the Oracle within a pass of the demand loop. Other map replicas
  // may be idle too (the sim lab's load follows the service's demand), so the best move may be
  // another replica's: whichever comes first is the one to confirm.
  await expect(async () => {
    const answer = JSON.parse(await vmatrixCli(["vms", "proposals", "map", "--json"])) as { proposals: Proposal[] };
    expect(answer.proposals.length, JSON.stringify(answer)).toBeGreaterThan(0);
  }).toPass({ timeout: 120_000, intervals: [5000] });

  await signIn(page, "operator@vmatrix.test");
  await page.getByLabel("Service").selectOption({ label: "Map service" });
  const panel = page.getByTestId("relocation-proposals");
  await expect(panel.getByRole("heading", { name: "Suggested moves" })).toBeVisible();
  const row = panel.locator('[data-testid^="proposal-"]').first();
  const words = /^Move (\S+) from .+ to (.+): users' RTT \d+ ms → \d+ ms; replica idle, CPU \d+ %/;
  await expect(row.locator("strong")).toHaveText(words, { timeout: 30_000 });
  const [, name, city] = words.exec((await row.locator("strong").textContent())!)!;
  await row.getByRole("button", { name: "Relocate" }).click();
  const confirm = panel.getByRole("group", { name: `Confirm relocating ${name}` });
  await expect(confirm).toContainText(`to ${city}?`);
  await confirm.getByRole("button", { name: "Yes, relocate" }).click();
  await expect(panel.getByRole("status").filter({ hasText: "requested" })).toContainText(
    `Relocation of ${name} to ${city} requested`,
  );

  // The existing RELOCATE operation, to a host of the proposal's hosting network.
  const op = await withE2eDatabase(async (db) => {
    const { rows } = await db.query<{ kind: string; state: string; city: string; reason: string }>(
      `SELECT o.kind, o.state, n.city, o.reason FROM "Operation" o JOIN "Vm" v ON v.id = o."vmId"
         JOIN "Host" h ON h.id = o."targetHostId" JOIN "HostingNetwork" n ON n.id = h."hostingNetworkId"
        WHERE v.name = $1 ORDER BY o."createdAt" DESC LIMIT 1`,
      [name],
    );
    return rows[0];
  });
  expect(op).toMatchObject({ kind: "RELOCATE", city });
  expect(["QUEUED", "RUNNING", "SUCCEEDED"]).toContain(op!.state);
  expect(op!.reason).toMatch(/^suggested by the Oracle: /);
});
