import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { startSimLab, type SimLab } from "../sim/lab";
import { defineDriverContract } from "./contract";

// A fresh two-host sim lab (Frankfurt and New York) for this file only.
let lab: SimLab | undefined;
let dataDir: string | undefined;

defineDriverContract(
  async () => {
    dataDir = await mkdtemp(join(tmpdir(), "vmatrix-sim-contract-"));
    lab = await startSimLab({
      dataDir,
      hosts: [
        { name: "sim-fra", role: "LOADING", city: "Frankfurt", lat: 50.11, lon: 8.68 },
        { name: "sim-nyc", role: "PRODUCTION", city: "New York", lat: 40.71, lon: -74.01 },
      ],
    });
    return lab.manifest;
  },
  {
    label: "sim",
    limitDisk: async (hostName, freeBytes) => {
      lab!.setFreeDisk(hostName, freeBytes);
      return async () => lab!.setFreeDisk(hostName, undefined);
    },
  },
);

afterAll(async () => {
  await lab?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});
