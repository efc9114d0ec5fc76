import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const check = () =>
  spawnSync(process.execPath, ["--import", "tsx", "scripts/check-layers.ts"], { encoding: "utf8", timeout: 120_000 });

describe("the floor plan's door rules (npm test's layers step)", () => {
  it("hold on the product as it is", () => {
    const r = check();
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("refuse a decision that reads the database, and the folder cycle it makes", () => {
    // A scratch file, removed whatever happens: oracle/ importing jobs/ closes jobs → oracle → jobs.
    const scratch = "server/oracle/zz-layers-probe.ts";
    writeFileSync(
      scratch,
      'import type { Db } from "../db/client";\nimport { requestOperation } from "../jobs/request";\nexport const probe = (db: Db) => [db, requestOperation];\n',
    );
    try {
      const r = check();
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("oracle-is-pure: server/oracle/zz-layers-probe.ts → server/db/client.ts");
      expect(r.stderr).toMatch(/folder cycle under server\/: .*server\/jobs\/.*server\/oracle\//);
    } finally {
      rmSync(scratch, { force: true });
    }
  });
});
