/** Demo world: real cities (coordinates of the city centre) on every inhabited continent. */
export interface SeedCity {
  slug: string;
  city: string;
  country: string;
  continent: "Africa" | "Asia" | "Europe" | "North America" | "Oceania" | "South America";
  lat: number;
  lon: number;
}

export const SEED_CITIES: SeedCity[] = [
  { slug: "new-york", city: "New York", country: "US", continent: "North America", lat: 40.7128, lon: -74.006 },
  { slug: "ashburn", city: "Ashburn", country: "US", continent: "North America", lat: 39.0438, lon: -77.4874 },
  { slug: "chicago", city: "Chicago", country: "US", continent: "North America", lat: 41.8781, lon: -87.6298 },
  { slug: "dallas", city: "Dallas", country: "US", continent: "North America", lat: 32.7767, lon: -96.797 },
  { slug: "denver", city: "Denver", country: "US", continent: "North America", lat: 39.7392, lon: -104.9903 },
  { slug: "los-angeles", city: "Los Angeles", country: "US", continent: "North America", lat: 34.0522, lon: -118.2437 },
  { slug: "seattle", city: "Seattle", country: "US", continent: "North America", lat: 47.6062, lon: -122.3321 },
  { slug: "toronto", city: "Toronto", country: "CA", continent: "North America", lat: 43.6532, lon: -79.3832 },
  { slug: "mexico-city", city: "Mexico City", country: "MX", continent: "North America", lat: 19.4326, lon: -99.1332 },
  { slug: "miami", city: "Miami", country: "US", continent: "North America", lat: 25.7617, lon: -80.1918 },
  { slug: "sao-paulo", city: "São Paulo", country: "BR", continent: "South America", lat: -23.5505, lon: -46.6333 },
  {
    slug: "buenos-aires",
    city: "Buenos Aires",
    country: "AR",
    continent: "South America",
    lat: -34.6037,
    lon: -58.3816,
  },
  { slug: "santiago", city: "Santiago", country: "CL", continent: "South America", lat: -33.4489, lon: -70.6693 },
  { slug: "bogota", city: "Bogotá", country: "CO", continent: "South America", lat: 4.711, lon: -74.0721 },
  { slug: "lima", city: "Lima", country: "PE", continent: "South America", lat: -12.0464, lon: -77.0428 },
  { slug: "london", city: "London", country: "GB", continent: "Europe", lat: 51.5074, lon: -0.1278 },
  { slug: "frankfurt", city: "Frankfurt", country: "DE", continent: "Europe", lat: 50.1109, lon: 8.6821 },
  { slug: "amsterdam", city: "Amsterdam", country: "NL", continent: "Europe", lat: 52.3676, lon: 4.9041 },
  { slug: "paris", city: "Paris", country: "FR", continent: "Europe", lat: 48.8566, lon: 2.3522 },
  { slug: "stockholm", city: "Stockholm", country: "SE", continent: "Europe", lat: 59.3293, lon: 18.0686 },
  { slug: "madrid", city: "Madrid", country: "ES", continent: "Europe", lat: 40.4168, lon: -3.7038 },
  { slug: "warsaw", city: "Warsaw", country: "PL", continent: "Europe", lat: 52.2297, lon: 21.0122 },
  { slug: "milan", city: "Milan", country: "IT", continent: "Europe", lat: 45.4642, lon: 9.19 },
  { slug: "johannesburg", city: "Johannesburg", country: "ZA", continent: "Africa", lat: -26.2041, lon: 28.0473 },
  { slug: "lagos", city: "Lagos", country: "NG", continent: "Africa", lat: 6.5244, lon: 3.3792 },
  { slug: "nairobi", city: "Nairobi", country: "KE", continent: "Africa", lat: -1.2921, lon: 36.8219 },
  { slug: "cairo", city: "Cairo", country: "EG", continent: "Africa", lat: 30.0444, lon: 31.2357 },
  { slug: "casablanca", city: "Casablanca", country: "MA", continent: "Africa", lat: 33.5731, lon: -7.5898 },
  { slug: "tokyo", city: "Tokyo", country: "JP", continent: "Asia", lat: 35.6762, lon: 139.6503 },
  { slug: "singapore", city: "Singapore", country: "SG", continent: "Asia", lat: 1.3521, lon: 103.8198 },
  { slug: "mumbai", city: "Mumbai", country: "IN", continent: "Asia", lat: 19.076, lon: 72.8777 },
  { slug: "hong-kong", city: "Hong Kong", country: "HK", continent: "Asia", lat: 22.3193, lon: 114.1694 },
  { slug: "seoul", city: "Seoul", country: "KR", continent: "Asia", lat: 37.5665, lon: 126.978 },
  { slug: "dubai", city: "Dubai", country: "AE", continent: "Asia", lat: 25.2048, lon: 55.2708 },
  { slug: "tel-aviv", city: "Tel Aviv", country: "IL", continent: "Asia", lat: 32.0853, lon: 34.7818 },
  { slug: "jakarta", city: "Jakarta", country: "ID", continent: "Asia", lat: -6.2088, lon: 106.8456 },
  { slug: "sydney", city: "Sydney", country: "AU", continent: "Oceania", lat: -33.8688, lon: 151.2093 },
  { slug: "melbourne", city: "Melbourne", country: "AU", continent: "Oceania", lat: -37.8136, lon: 144.9631 },
  { slug: "auckland", city: "Auckland", country: "NZ", continent: "Oceania", lat: -36.8485, lon: 174.7633 },
];

/**
 * Demo services from the thesis (§4 map service, §5 finance vs sports, §6 game server).
 * Image sizes are small because the sim lab keeps and copies real bytes for every VM;
 * real images are gigabytes (thesis §3.4).
 */
export const SEED_SERVICES = [
  {
    slug: "map",
    name: "Map service",
    kind: "WEB" as const,
    port: 80,
    ownerDomain: "mapco.example",
    dnsName: "map.vmatrix.test",
    description: "Single-tier web map service (thesis §4), replicated close to its users.",
    image: { diskMiB: 96, memoryMiB: 128, vcpus: 1 },
    nestCities: ["ashburn", "frankfurt", "singapore", "sao-paulo", "sydney", "johannesburg"],
    productionCities: ["new-york", "frankfurt", "tokyo", "sao-paulo"],
  },
  {
    slug: "finance",
    name: "Finance portal",
    kind: "WEB" as const,
    port: 443,
    ownerDomain: "finco.example",
    dnsName: "finance.vmatrix.test",
    description: "Busy on weekday business hours (thesis §5).",
    image: { diskMiB: 160, memoryMiB: 256, vcpus: 2 },
    nestCities: ["ashburn", "london", "frankfurt", "tokyo", "hong-kong", "chicago"],
    productionCities: ["new-york", "london"],
  },
  {
    slug: "sports",
    name: "Sports news",
    kind: "WEB" as const,
    port: 80,
    ownerDomain: "sportsco.example",
    dnsName: "sports.vmatrix.test",
    description: "Busy on evenings and weekends: the opposite of finance (thesis §5).",
    image: { diskMiB: 128, memoryMiB: 192, vcpus: 2 },
    nestCities: ["ashburn", "london", "madrid", "sao-paulo", "sydney", "mumbai"],
    productionCities: ["london", "sydney"],
  },
  {
    slug: "halo",
    name: "Halo match server",
    kind: "GAME" as const,
    port: 2302,
    ownerDomain: "clans.example",
    dnsName: null,
    description: "Game server placed equi-ping between the players of a match (thesis §6).",
    image: { diskMiB: 80, memoryMiB: 128, vcpus: 1 },
    nestCities: ["chicago", "dallas", "denver", "frankfurt", "singapore", "sydney"],
    productionCities: [],
  },
];

export const DEMO_PASSWORD = "vmatrix-demo";

export const SEED_USERS = [
  { email: "admin@vmatrix.test", name: "Ada Admin", role: "ADMIN" as const },
  { email: "operator@vmatrix.test", name: "Otto Operator", role: "OPERATOR" as const },
  { email: "manager@vmatrix.test", name: "Mona Manager", role: "MANAGER" as const },
  { email: "clan@vmatrix.test", name: "Cleo (Red Clan admin)", role: "CLAN_ADMIN" as const },
  { email: "clan2@vmatrix.test", name: "Bram (Blue Clan admin)", role: "CLAN_ADMIN" as const },
];

/** Demand hot spots for the map service over the last day. */
export const SEED_HOTSPOTS = [
  { lat: 40.73, lon: -73.99, peak: 900 },
  { lat: 51.51, lon: -0.13, peak: 700 },
  { lat: 35.68, lon: 139.69, peak: 800 },
  { lat: -23.55, lon: -46.63, peak: 500 },
  { lat: 19.08, lon: 72.88, peak: 650 },
  { lat: 6.52, lon: 3.38, peak: 300 },
];
