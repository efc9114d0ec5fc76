import { describe, expect, it } from "vitest";
import { continentOf } from "./regions";

describe("continentOf", () => {
  it("places countries on their continent, by name as WonderProxy spells them", () => {
    expect(continentOf("United States")).toBe("North America");
    expect(continentOf("Panama")).toBe("North America"); // Central America counts as North America
    expect(continentOf("Colombia")).toBe("South America");
    expect(continentOf("Russia")).toBe("Europe"); // UN M49, Vladivostok included
    expect(continentOf("Turkey")).toBe("Asia");
    expect(continentOf("Kenya")).toBe("Africa");
    expect(continentOf("New Zealand")).toBe("Oceania");
  });

  it("ignores case and surrounding spaces, and knows nothing of names outside the table", () => {
    expect(continentOf("  united kingdom ")).toBe("Europe");
    expect(continentOf("Atlantis")).toBeUndefined();
    expect(continentOf("GB")).toBeUndefined();
  });
});
