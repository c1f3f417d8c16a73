#!/usr/bin/env node
// Runs one TypeScript script of this package (bench, corpus regeneration).
import { register } from "tsx/esm/api";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

register();
const script = process.argv[2];
process.argv.splice(2, 1);
await import(pathToFileURL(resolve(script)).href);
