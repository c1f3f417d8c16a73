// Entry of a split-search worker thread (checker/split-search.ts) started
// from the TypeScript sources (tests, bench): the compiled worker body when
// dist/ is current (bin/compiled.js), which starts in a fraction of the time,
// else the TypeScript body through tsx's loader. Either computes the same
// chunks from the same sources.
import { importCompiledOrSource } from "./compiled.js";

await importCompiledOrSource("checker/split-worker.js", "../checker/split-worker.ts");
