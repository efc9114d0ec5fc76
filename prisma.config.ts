import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { defineConfig } from "prisma/config";

// Migration CLI only (the app's runtime client does not load this file).
// Two shims for @prisma/adapter-pg 6.19 with the JavaScript schema engine; see
// ../shared/notes/toolchain.md.

// (1) Catalog columns of type "char" (OID 18) and name (OID 19) are rejected by the
// adapter; they are plain text for its purposes.
// `addFields` is internal to pg (not in its types), hence the narrow cast.
type WithAddFields = { addFields(fields: pg.FieldDef[]): void };
const resultProto = pg.Result.prototype as unknown as WithAddFields;
const originalAddFields = resultProto.addFields;
resultProto.addFields = function (this: WithAddFields, fields: pg.FieldDef[]) {
  for (const f of fields) if (f.dataTypeID === 18 || f.dataTypeID === 19) f.dataTypeID = 25;
  originalAddFields.call(this, fields);
};

// (2) The stock shadow database connection keeps the main connection string (so it
// would migrate the main database) and drops the shadow database with its pool open.
class MigrationAdapter extends PrismaPg {
  constructor(private readonly url: string) {
    super({ connectionString: url });
  }
  override async connectToShadowDb() {
    const name = `prisma_shadow_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
    const admin = new pg.Client({ connectionString: this.url });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    const shadowUrl = new URL(this.url);
    shadowUrl.pathname = "/" + name;
    const adapter = await new PrismaPg({ connectionString: shadowUrl.toString() }).connect();
    const dispose = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      await dispose();
      const cleanup = new pg.Client({ connectionString: this.url });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await cleanup.end();
    };
    return adapter;
  }
}

export default defineConfig({
  schema: path.join("prisma", "schema.prisma"),
  migrations: { path: path.join("prisma", "migrations"), seed: "tsx prisma/seed.ts" },
  experimental: { adapter: true },
  engine: "js",
  async adapter() {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error("DATABASE_URL is not set: run prisma through `npm run prisma -- …`");
    return new MigrationAdapter(url);
  },
});
