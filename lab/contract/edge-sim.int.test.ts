import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { startSimEdges, type SimEdges } from "../sim/edge/lab";
import { defineEdgeContract } from "./edge-contract";

// A fresh sim edge for this file only.
let edges: SimEdges | undefined;
let dataDir: string | undefined;

defineEdgeContract(
  async () => {
    dataDir = await mkdtemp(join(tmpdir(), "vmatrix-edge-contract-"));
    edges = await startSimEdges({
      dataDir,
      edges: [{ hostingNetwork: "frankfurt", lat: 50.11, lon: 8.68, backends: ["map", "finance"] }],
    });
    return {
      manifest: edges.manifest,
      backend: "map",
      connections: {
        backend: "map",
        address: "10.20.0.8",
        port: 80,
        open: (hn, backend, server, n) => edges!.edge(hn).setConnections(backend, server, n),
      },
    };
  },
  { label: "sim" },
);

afterAll(async () => {
  await edges?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});
