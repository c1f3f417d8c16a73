#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm run build`, which `prepare`
// runs on install and pack) when it is there and not older than the
// TypeScript sources; otherwise the sources through tsx's loader. The
// installed package ships dist/ only, so it never needs the loader except for
// a user's TypeScript policy module (checker/policy-module.ts).
import { compiledEntry } from "./compiled.js";

let mainUrl = compiledEntry("cli/main.js");
let ioUrl = compiledEntry("cli/io.js");
let errorsUrl = compiledEntry("cli/errors.js");
if (mainUrl === null || ioUrl === null || errorsUrl === null) {
  const { register } = await import("tsx/esm/api");
  register();
  mainUrl = "../cli/main.ts";
  ioUrl = "../cli/io.ts";
  errorsUrl = "../cli/errors.ts";
}
const { main } = await import(mainUrl);
const { processIo } = await import(ioUrl);
const { drained } = await import(errorsUrl);
const code = await main(process.argv.slice(2), processIo());
// Everything written must reach a pipe before the process ends (a pipe holds
// 64 KiB; `check --json | jq .` was cut at 65,536 bytes). process.exit then,
// so that worker threads or a user's module cannot keep the process alive.
await Promise.all([drained(process.stdout), drained(process.stderr)]);
process.exit(code);
