/**
 * Country → continent, for the leave-one-region-out evaluation in calibrate.ts (a model
 * fitted without a whole continent, scored on it). Keys are English country names as
 * WonderProxy's server list spells them (the calibration files carry names, not ISO
 * codes); the table covers every country of that list. Continents follow the UN M49
 * geoscheme country by country (Russia in Europe, Turkey, Cyprus and the Caucasus in
 * Asia), with the Americas split at Panama/Colombia: Central America and the Caribbean
 * count as North America.
 */
export const CONTINENTS = ["Africa", "Asia", "Europe", "North America", "Oceania", "South America"] as const;
export type Continent = (typeof CONTINENTS)[number];

const BY_CONTINENT: Record<Continent, readonly string[]> = {
  Africa: ["Algeria", "Egypt", "Ghana", "Kenya", "Morocco", "Nigeria", "South Africa", "Tanzania", "Tunisia", "Uganda"],
  Asia: [
    "Bangladesh",
    "Cambodia",
    "China",
    "Cyprus",
    "Georgia",
    "Hong Kong",
    "India",
    "Indonesia",
    "Israel",
    "Japan",
    "Kazakhstan",
    "Lebanon",
    "Malaysia",
    "Pakistan",
    "Philippines",
    "Saudi Arabia",
    "Singapore",
    "South Korea",
    "Taiwan",
    "Thailand",
    "Turkey",
    "United Arab Emirates",
    "Vietnam",
  ],
  Europe: [
    "Albania",
    "Austria",
    "Belgium",
    "Bulgaria",
    "Croatia",
    "Czech Republic",
    "Denmark",
    "Estonia",
    "Finland",
    "France",
    "Germany",
    "Greece",
    "Hungary",
    "Iceland",
    "Ireland",
    "Isle of Man",
    "Italy",
    "Kosovo",
    "Latvia",
    "Lithuania",
    "Luxembourg",
    "Malta",
    "Moldova",
    "Netherlands",
    "Norway",
    "Poland",
    "Portugal",
    "Romania",
    "Russia",
    "Serbia",
    "Slovakia",
    "Slovenia",
    "Spain",
    "Sweden",
    "Switzerland",
    "Ukraine",
    "United Kingdom",
  ],
  "North America": [
    "Canada",
    "Costa Rica",
    "Guatemala",
    "Honduras",
    "Mexico",
    "Panama",
    "Puerto Rico",
    "United States",
  ],
  Oceania: ["Australia", "New Zealand"],
  "South America": ["Argentina", "Brazil", "Chile", "Colombia", "Ecuador", "Peru", "Suriname", "Uruguay", "Venezuela"],
};

const CONTINENT_OF = new Map(
  CONTINENTS.flatMap((continent) => BY_CONTINENT[continent].map((country) => [country.toLowerCase(), continent])),
);

/** The continent of a country named as in the table; `undefined` for a name it lacks. */
export function continentOf(country: string): Continent | undefined {
  return CONTINENT_OF.get(country.trim().toLowerCase());
}
