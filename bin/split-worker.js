// Entry of a split-search worker thread (checker/split-search.ts): registers
// tsx's loader in this thread, then runs the TypeScript worker body.
import { register } from "tsx/esm/api";

register();
await import("../checker/split-worker.ts");
