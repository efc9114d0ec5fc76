import { describe, expect, it } from "vitest";
import { bytesOverPeriod, domainCpuPercent, hostCpuPercent } from "./rates";

describe("counters → rates", () => {
  it("CPU % of a domain is Δcpu.time ÷ Δwall ÷ vCPUs", () => {
    // 2 vCPUs, 10 s apart, 15 s of CPU time: 75 %.
    expect(
      domainCpuPercent(
        { at: 0, cpuTimeNs: 1e9, rxBytes: null, txBytes: null },
        { at: 10_000, cpuTimeNs: 16e9, rxBytes: null, txBytes: null },
        2,
      ),
    ).toBe(75);
    // Accounting noise above 100 % is capped.
    expect(
      domainCpuPercent(
        { at: 0, cpuTimeNs: 0, rxBytes: null, txBytes: null },
        { at: 1000, cpuTimeNs: 1.02e9, rxBytes: null, txBytes: null },
        1,
      ),
    ).toBe(100);
  });

  it("gives no CPU % across a restart (counter went back) or without elapsed time", () => {
    const r = (at: number, cpu: number | null) => ({ at, cpuTimeNs: cpu, rxBytes: null, txBytes: null });
    expect(domainCpuPercent(r(0, 5e9), r(10_000, 1e9), 1)).toBeNull();
    expect(domainCpuPercent(r(10_000, 1e9), r(10_000, 2e9), 1)).toBeNull();
    expect(domainCpuPercent(r(0, null), r(10_000, 2e9), 1)).toBeNull();
  });

  it("host CPU % is busy over all CPU time between two readings", () => {
    expect(
      hostCpuPercent({ at: 0, busyNs: 100e9, totalNs: 1000e9 }, { at: 10_000, busyNs: 110e9, totalNs: 1040e9 }),
    ).toBe(25);
    expect(
      hostCpuPercent({ at: 0, busyNs: 100e9, totalNs: 1000e9 }, { at: 10_000, busyNs: 1e9, totalNs: 10e9 }),
    ).toBeNull();
  });

  it("scales bytes to the stored period, so turns between oracles neither double nor drop traffic", () => {
    // 1 MB in 20 s (another oracle's older reading) is 500 kB for a 10 s stored period.
    expect(bytesOverPeriod(0, 1_000_000, 20_000, 10_000)).toBe(500_000);
    expect(bytesOverPeriod(5_000, 1_000, 10_000, 10_000)).toBe(0); // counter reset
    expect(bytesOverPeriod(null, 1_000, 10_000, 10_000)).toBe(0);
  });
});
