#!/usr/bin/env node
// Runs the TypeScript sources through tsx's loader (also used to load a
// user's TypeScript policy module), then hands over to the CLI.
import { register } from "tsx/esm/api";

register();
await import("../cli/main.ts");
