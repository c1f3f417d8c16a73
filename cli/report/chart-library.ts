/**
 * The charting library the report inlines: Chart.js (a dependency, pinned in
 * package.json), its minified UMD build read from node_modules when a report
 * is written, so the page needs no network. Its source-map comment is
 * dropped: the map is not shipped with the page.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export const CHART_LIBRARY = "chart.js";

/** The minified UMD build of Chart.js, ready to sit inside a <script> element. */
export function chartLibrarySource(): string {
  // The package's exports name no file of dist/ but its CommonJS entry, which lives there beside the UMD build.
  const entry = createRequire(import.meta.url).resolve(CHART_LIBRARY);
  const text = readFileSync(join(dirname(entry), "chart.umd.min.js"), "utf8").replace(/\n\/\/# sourceMappingURL=\S*\s*$/, "\n");
  // A "</script" inside would end the element early; the build has none, and a future one must not slip through.
  if (/<\/script/i.test(text)) throw new Error(`${CHART_LIBRARY}: its build contains "</script", which cannot be inlined`);
  return text;
}
