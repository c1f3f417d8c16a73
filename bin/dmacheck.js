#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm run build`, which `prepare`
// runs on install and pack) when it is there and not older than the
// TypeScript sources; otherwise the sources through tsx's loader. The
// installed package ships dist/ only, so it never needs the loader except for
// a user's TypeScript policy module (checker/policy-module.ts).
import { compiledEntry } from "./compiled.js";

const entry = compiledEntry("cli/main.js");
if (entry !== null) {
  await import(entry);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../cli/main.ts");
}
