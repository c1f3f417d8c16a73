/**
 * `npm run corpus:render`: rewrites the rendered vitest tests in test/corpus/
 * from the stored counterexamples in counterexamples/corpus/, without
 * searching again (seconds, where `npm run corpus` takes minutes). For when
 * only the rendering (counterexamples/render.ts) changed.
 */
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CORPUS_DIR, RENDERED_DIR } from "./corpus.ts";
import { readCounterexampleFile } from "./file.ts";
import { renderVitest } from "./render.ts";

for (const f of readdirSync(CORPUS_DIR).filter((x) => x.endsWith(".json")).sort()) {
  const r = readCounterexampleFile(join(CORPUS_DIR, f));
  if (!r.ok) throw new Error(r.error);
  writeFileSync(join(RENDERED_DIR, f.replace(/\.json$/, ".test.ts")), renderVitest(r.value, "../../index.ts"));
  process.stdout.write(`${f}: rendered\n`);
}
