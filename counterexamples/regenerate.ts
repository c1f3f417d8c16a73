/** `npm run corpus`: rewrites counterexamples/corpus/ and the rendered tests in test/corpus/. */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { computeCorpus, CORPUS_DIR, RENDERED_DIR } from "./corpus.ts";
import { counterexampleFileName } from "./build.ts";
import { encodeCounterexample } from "./file.ts";
import { renderVitest } from "./render.ts";

mkdirSync(CORPUS_DIR, { recursive: true });
mkdirSync(RENDERED_DIR, { recursive: true });
for (const f of readdirSync(CORPUS_DIR)) if (f.endsWith(".json")) rmSync(join(CORPUS_DIR, f));
for (const f of readdirSync(RENDERED_DIR)) if (f.endsWith(".test.ts")) rmSync(join(RENDERED_DIR, f));
for (const cx of computeCorpus()) {
  const name = counterexampleFileName(cx.policy, cx.property);
  writeFileSync(join(CORPUS_DIR, name), encodeCounterexample(cx));
  writeFileSync(join(RENDERED_DIR, name.replace(/\.json$/, ".test.ts")), renderVitest(cx, "../../index.ts"));
  process.stdout.write(`${name}: ${cx.events.length} events\n`);
}
