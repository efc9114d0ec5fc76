/** `npm run db:seed`: applies migrations and seeds the demo world (idempotent). */
import { prepareDatabase } from "./lib/database";

const db = await prepareDatabase({ log: (m) => console.log(m) });
await db.stop();
