// Entry of a split-search worker thread (checker/split-search.ts) started
// from the TypeScript sources (tests, bench): the compiled worker body when
// dist/ is current (bin/compiled.js), which starts in a fraction of the time,
// else tsx's loader in this thread and the TypeScript body. Either computes
// the same chunks from the same sources.
import { compiledEntry } from "./compiled.js";

const compiled = compiledEntry("checker/split-worker.js");
if (compiled !== null) await import(compiled);
else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../checker/split-worker.ts");
}
