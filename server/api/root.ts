import { accountRouter } from "./routers/account";
import { alertsRouter } from "./routers/alerts";
import { auditRouter } from "./routers/audit";
import { autoscalerRouter } from "./routers/autoscaler";
import { demandRouter } from "./routers/demand";
import { hostsRouter } from "./routers/hosts";
import { lookupRouter } from "./routers/lookup";
import { matchesRouter } from "./routers/matches";
import { networkRouter } from "./routers/network";
import { operationsRouter } from "./routers/operations";
import { poolsRouter } from "./routers/pools";
import { replicasRouter } from "./routers/replicas";
import { tokensRouter } from "./routers/tokens";
import { usersRouter } from "./routers/users";
import { utilizationRouter } from "./routers/utilization";
import { vmsRouter } from "./routers/vms";
import { worldRouter } from "./routers/world";
import { authedProcedure, createCallerFactory, router } from "./trpc";

/** The API's table of contents. */
export const appRouter = router({
  me: authedProcedure.query(({ ctx }) => ctx.user),
  world: worldRouter,
  hosts: hostsRouter,
  alerts: alertsRouter,
  vms: vmsRouter,
  replicas: replicasRouter,
  operations: operationsRouter,
  matches: matchesRouter,
  utilization: utilizationRouter,
  autoscaler: autoscalerRouter,
  pools: poolsRouter,
  audit: auditRouter,
  demand: demandRouter,
  network: networkRouter,
  users: usersRouter,
  account: accountRouter,
  tokens: tokensRouter,
  lookup: lookupRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
