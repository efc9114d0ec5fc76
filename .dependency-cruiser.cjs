/**
 * The floor plan's door rules (docs/architecture.md), checked by `npm test` (step "layers",
 * scripts/check-layers.ts, which also refuses folder cycles under server/).
 * Tests (*.test.ts) may reach anything they need; the rules hold for product code.
 */
const TESTS = "\\.test\\.tsx?$";
/** Modules that reach the outside world: the database, SSH, the job queue, the file system. */
const IO =
  "^(server/(db|hosts|jobs|loops|edge|registry|api|auth|replicas)/|components/|app/|scripts/|lab/)|^(node:)?(fs|fs/promises|net|dgram|child_process)$|^(ssh2|pg|graphile-worker|@prisma/)";

module.exports = {
  forbidden: [
    {
      name: "oracle-is-pure",
      comment:
        "server/oracle/ holds decisions as pure functions over plain values: no database, hosts, jobs, loops, edges, UI, files or sockets.",
      severity: "error",
      from: { path: "^server/oracle/", pathNot: TESTS },
      to: { path: IO },
    },
    {
      name: "host-driver-stands-alone",
      comment:
        "server/hosts/ (SSH, virsh, files) knows nothing of decisions, operations, loops, the database or the edges.",
      severity: "error",
      from: { path: "^server/hosts/", pathNot: TESTS },
      to: { path: "^(server/(?!hosts/|log\\.ts$)|components/|app/|scripts/|lab/)" },
    },
    {
      name: "edge-driver-stands-alone",
      comment:
        "server/edge/driver/ talks to edges over the host transport only: no database, decisions, operations or loops.",
      severity: "error",
      from: { path: "^server/edge/driver/", pathNot: TESTS },
      to: { path: "^(server/(?!hosts/|edge/driver/|log\\.ts$)|components/|app/|scripts/|lab/)" },
    },
    {
      name: "only-the-oracle-process-runs-loops",
      comment: "Control loops are started by the oracle process; nothing else in server/ imports them.",
      severity: "error",
      from: { path: "^server/(?!loops/)", pathNot: TESTS },
      to: { path: "^server/loops/" },
    },
    {
      name: "jobs-never-edit-the-spec",
      comment:
        "Operations carry out plans; desired state (replica targets) is written by server/replicas/ only, never from jobs.",
      severity: "error",
      from: { path: "^server/jobs/", pathNot: TESTS },
      to: { path: "^server/(replicas|api|loops)/" },
    },
    {
      name: "the-web-app-opens-no-ssh",
      comment:
        "The internet-facing web process (server/api/, app/) holds no host key and opens no SSH session: it asks an oracle (server/calls/request.ts). Only error classes and types of the drivers, and the calls' types, may be imported.",
      severity: "error",
      from: { path: "^(server/api|app)/", pathNot: TESTS },
      to: {
        path: "^server/(hosts/(?!errors\\.ts$)|edge/(driver/|registry\\.ts$)|calls/(kinds|worker)\\.ts$)|^ssh2$",
        dependencyTypesNot: ["type-only"],
      },
    },
    {
      name: "nothing-calls-the-api",
      comment: "Routers are the outermost layer of server/: domain modules, jobs and loops never import them.",
      severity: "error",
      from: { path: "^server/(?!api/)", pathNot: TESTS },
      to: { path: "^server/api/" },
    },
    {
      name: "server-knows-no-ui",
      comment: "server/ never imports the UI, the pages, the scripts or the labs.",
      severity: "error",
      from: { path: "^server/", pathNot: TESTS },
      to: { path: "^(components|app|scripts|lab|e2e|bench)/" },
    },
    {
      name: "no-circular",
      comment: "No file cycles.",
      severity: "error",
      from: { path: "^server/" },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(node_modules|\\.next|\\.data)/|^server/db/generated/" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".tsx", ".js", ".mjs", ".json"],
    },
  },
};
