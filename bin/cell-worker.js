// Entry of a cell worker thread (checker/cell-pool.ts): registers tsx's
// loader in this thread, then runs the TypeScript worker body.
import { register } from "tsx/esm/api";

register();
await import("../checker/cell-worker.ts");
