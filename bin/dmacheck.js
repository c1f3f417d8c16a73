#!/usr/bin/env node
// Runs the TypeScript sources through tsx's loader (also used to load a
// user's TypeScript policy module), then hands over to the CLI.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../cli/main.ts");
const { processIo } = await import("../cli/io.ts");
// process.exit: worker threads or a user's module must not keep the process alive.
process.exit(await main(process.argv.slice(2), processIo()));
