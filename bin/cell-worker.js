// Entry of a cell worker thread (checker/cell-pool.ts) started from the
// TypeScript sources (tests, bench): the compiled worker body when dist/ is
// current (bin/compiled.js), else the TypeScript body through tsx's loader.
// Either runs the same cells from the same sources.
import { importCompiledOrSource } from "./compiled.js";

await importCompiledOrSource("checker/cell-worker.js", "../checker/cell-worker.ts");
