"use client";

import { useQuery } from "@tanstack/react-query";
import { countriesOf, type CountriesTopology } from "./basemap";

/** Served from public/ (public/basemap/README.md) rather than bundled into both maps' JavaScript. */
const COUNTRIES_URL = "/basemap/countries-110m.json";

/** The offline basemap's country shapes, fetched once for both maps; null until they arrive. */
export function useBasemap() {
  const countries = useQuery({
    queryKey: ["basemap", COUNTRIES_URL],
    queryFn: async ({ signal }) => {
      const res = await fetch(COUNTRIES_URL, { signal });
      if (!res.ok) throw new Error(`${COUNTRIES_URL}: HTTP ${res.status}`);
      return countriesOf((await res.json()) as CountriesTopology);
    },
    // The file does not change while the app runs: no refetch, and kept while neither map is open.
    staleTime: Infinity,
    gcTime: Infinity,
  });
  return countries.data ?? null;
}
