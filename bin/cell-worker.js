// Entry of a cell worker thread (checker/cell-pool.ts) started from the
// TypeScript sources (tests, bench): the compiled worker body when dist/ is
// current (bin/compiled.js), else tsx's loader in this thread and the
// TypeScript body. Either runs the same cells from the same sources.
import { compiledEntry } from "./compiled.js";

const compiled = compiledEntry("checker/cell-worker.js");
if (compiled !== null) await import(compiled);
else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../checker/cell-worker.ts");
}
