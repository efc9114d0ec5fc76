"use client";

import { useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import type { DemandSource } from "@/server/db/generated/enums";
import { DEMAND_SOURCES } from "@/server/demand/sources";
import { formatDateTime } from "@/server/format";
import { useTRPC } from "@/components/shared/trpc";
import { heatFrame } from "./heat";

/** The demand heat layer's data and its time slider's state (last 24 h, one position per bucket). */
export function useDemandHeat(serviceId: string | null) {
  const trpc = useTRPC();
  const [show, setShow] = useState(true);
  const [position, setPosition] = useState<number | "all" | null>(null);
  const [playing, setPlaying] = useState(false);
  const [sources, setSources] = useState<readonly DemandSource[]>(DEMAND_SOURCES);
  const everySource = sources.length === DEMAND_SOURCES.length;
  const heat = useQuery({
    ...trpc.demand.heat.queryOptions({ serviceId: serviceId ?? "", ...(everySource ? {} : { sources: [...sources] }) }),
    enabled: Boolean(serviceId) && show && sources.length > 0,
    refetchInterval: 60_000,
  });
  const buckets = useMemo(() => heat.data?.buckets ?? [], [heat.data]);
  const last = buckets.length - 1;
  // null follows the newest bucket as new ones arrive.
  const at = position === null ? last : position;
  useEffect(() => {
    if (!playing) return;
    const t = setInterval(() => setPosition((p) => (typeof p === "number" && p < last ? p + 1 : 0)), 700);
    return () => clearInterval(t);
  }, [playing, last]);
  const frame = useMemo(
    () => (serviceId && show && buckets.length > 0 ? heatFrame(buckets, at) : null),
    [serviceId, show, buckets, at],
  );
  const label = at === "all" ? "whole day" : buckets[at] ? formatDateTime(buckets[at].at) : "";

  return {
    serviceId,
    show,
    setShow,
    /** The sources whose demand is shown (every one at first). */
    sources,
    toggleSource(source: DemandSource, on: boolean) {
      setSources((now) => DEMAND_SOURCES.filter((s) => (s === source ? on : now.includes(s))));
    },
    bucketCount: buckets.length,
    last,
    at,
    playing,
    frame,
    /** The frame's time, in words. */
    label,
    bucketMinutes: heat.data?.bucketMinutes ?? 0,
    /** Loaded, and nothing in the window. */
    empty: heat.isSuccess && buckets.length === 0,
    error: heat.isError ? heat.error.message : null,
    /** Move the slider; its last position follows the newest bucket again. */
    seek(v: number) {
      setPlaying(false);
      setPosition(v === last ? null : v);
    },
    /** Play the day from its first bucket, or pause. */
    togglePlay() {
      if (playing) {
        setPlaying(false);
      } else {
        setPosition(0);
        setPlaying(true);
      }
    },
    wholeDay(on: boolean) {
      setPlaying(false);
      setPosition(on ? "all" : null);
    },
  };
}

export type DemandHeat = ReturnType<typeof useDemandHeat>;
