import { describe, expect, it } from "vitest";
import { parseConfig } from "../config";

describe("MAP_TILE_URL (the Map page's optional online tiles)", () => {
  it("is off unless set, and accepts a tile URL template", () => {
    expect(parseConfig({}).MAP_TILE_URL).toBeUndefined();
    expect(parseConfig({ MAP_TILE_URL: "" }).MAP_TILE_URL).toBeUndefined();
    expect(parseConfig({ MAP_TILE_URL: "https://tile.openstreetmap.org/{z}/{x}/{y}.png" }).MAP_TILE_URL).toBe(
      "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    );
    expect(parseConfig({ MAP_TILE_URL: "http://{s}.tiles.example/{z}/{x}/{y}@2x.png?key=a1" }).MAP_TILE_URL).toMatch(
      /^http:/,
    );
  });

  it("refuses anything else, naming the variable and what it needs", () => {
    for (const bad of [
      "tile.openstreetmap.org/{z}/{x}/{y}.png",
      "https://tiles.example/{x}/{y}.png",
      "javascript:alert(1)//{z}{x}{y}",
      'https://x/{z}/{x}/{y}"><script>',
    ]) {
      expect(() => parseConfig({ MAP_TILE_URL: bad })).toThrow(
        /MAP_TILE_URL: must be an http\(s\) tile URL template with \{z\}, \{x\} and \{y\}/,
      );
    }
  });
});
