import type { SimHostSpec } from "./lab";

/** Where a standalone sim lab puts its hosts: hosting-network cities around the world. */
export const SIM_CITIES: { slug: string; city: string; lat: number; lon: number }[] = [
  { slug: "fra", city: "Frankfurt", lat: 50.11, lon: 8.68 },
  { slug: "nyc", city: "New York", lat: 40.71, lon: -74.01 },
  { slug: "sjc", city: "San Jose", lat: 37.34, lon: -121.89 },
  { slug: "lon", city: "London", lat: 51.51, lon: -0.13 },
  { slug: "sin", city: "Singapore", lat: 1.35, lon: 103.82 },
  { slug: "tyo", city: "Tokyo", lat: 35.68, lon: 139.69 },
  { slug: "syd", city: "Sydney", lat: -33.87, lon: 151.21 },
  { slug: "gru", city: "São Paulo", lat: -23.55, lon: -46.63 },
  { slug: "jnb", city: "Johannesburg", lat: -26.2, lon: 28.05 },
  { slug: "bom", city: "Mumbai", lat: 19.08, lon: 72.88 },
  { slug: "dxb", city: "Dubai", lat: 25.2, lon: 55.27 },
  { slug: "ams", city: "Amsterdam", lat: 52.37, lon: 4.9 },
  { slug: "par", city: "Paris", lat: 48.86, lon: 2.35 },
  { slug: "sto", city: "Stockholm", lat: 59.33, lon: 18.07 },
  { slug: "waw", city: "Warsaw", lat: 52.23, lon: 21.01 },
  { slug: "mad", city: "Madrid", lat: 40.42, lon: -3.7 },
  { slug: "chi", city: "Chicago", lat: 41.88, lon: -87.63 },
  { slug: "dfw", city: "Dallas", lat: 32.78, lon: -96.8 },
  { slug: "sea", city: "Seattle", lat: 47.61, lon: -122.33 },
  { slug: "yyz", city: "Toronto", lat: 43.65, lon: -79.38 },
  { slug: "mex", city: "Mexico City", lat: 19.43, lon: -99.13 },
  { slug: "hkg", city: "Hong Kong", lat: 22.32, lon: 114.17 },
  { slug: "sel", city: "Seoul", lat: 37.57, lon: 126.98 },
  { slug: "cai", city: "Cairo", lat: 30.04, lon: 31.24 },
];

/**
 * `count` hosts over the cities in turn; in each lab the first host is the Nest, the
 * second a Loading Chamber, the rest Production hosts (the thesis' life cycle, §3.2).
 */
export function simHostSpecs(count: number): SimHostSpec[] {
  return Array.from({ length: count }, (_, i) => {
    const c = SIM_CITIES[i % SIM_CITIES.length]!;
    const role = i === 0 ? "NEST" : i === 1 ? "LOADING" : "PRODUCTION";
    return {
      name: `sim-${c.slug}-${Math.floor(i / SIM_CITIES.length) + 1}`,
      role,
      city: c.city,
      lat: c.lat,
      lon: c.lon,
    };
  });
}
