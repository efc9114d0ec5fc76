import { describe, expect, it } from "vitest";
import { exclusionReasons, type HostFacts } from "./eligibility";

const free: HostFacts = {
  status: "UP",
  hostKeyTrust: "TRUSTED",
  draining: false,
  retired: false,
  productionVm: null,
  bookedInSlot: false,
  gameImageReachable: true,
};

describe("exclusionReasons", () => {
  it("keeps an up, trusted, idle, free host", () => {
    expect(exclusionReasons(free)).toEqual([]);
  });

  it("gives one reason per problem, all of them", () => {
    expect(
      exclusionReasons({
        ...free,
        status: "DOWN",
        hostKeyTrust: "PENDING",
        draining: true,
        productionVm: "map-001",
        bookedInSlot: true,
      }),
    ).toEqual([
      "down (missed heartbeats)",
      "untrusted: its SSH host key is not confirmed",
      "draining",
      "runs production VM map-001",
      "busy: booked for another match in this slot",
    ]);
  });

  it("names retired, unknown-status, changed-key hosts and a missing game image", () => {
    expect(
      exclusionReasons({
        ...free,
        retired: true,
        status: "UNKNOWN",
        hostKeyTrust: "MISMATCH",
        gameImageReachable: false,
      }),
    ).toEqual([
      "retired",
      "status unknown (no heartbeat yet)",
      "untrusted: its SSH host key changed",
      "the game's VM image is in no Hibernation Nest",
    ]);
  });
});
