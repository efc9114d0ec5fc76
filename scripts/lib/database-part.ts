import type { ProvisionedDb } from "../../server/db/provision";
import type { Part } from "./supervisor";

/**
 * The embedded PostgreSQL as a supervised part: started already (by prepareDatabase),
 * started again when it dies (PostgreSQL replays its log on the way up). A database
 * from DATABASE_URL is someone else's to run: it never "dies" here.
 */
export function databasePart(database: ProvisionedDb): Part {
  const server = database.server;
  let first = true;
  return {
    name: "embedded PostgreSQL",
    async start() {
      if (!server) return { exited: new Promise(() => {}), stop: database.stop };
      if (!first) await server.restart();
      first = false;
      return { exited: server.exited(), stop: server.stop };
    },
  };
}
