/**
 * The one reader of every file a user hands over (counterexample, scope and
 * cost table files). Such files are shared between people, so they are read as
 * hostile: a FIFO or a device would block forever, a huge file would eat the
 * memory, and JSON nested thousands of levels deep would overflow the stack of
 * any recursive walk (the schema decoder's included). So, before JSON.parse:
 * only regular files, at most MAX_INPUT_BYTES, nesting at most MAX_JSON_DEPTH
 * (counted by a flat scan, no recursion). Limits: docs/limits.md.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from "node:fs";

/** Largest input file: the biggest legitimate file (a long counterexample) is a few tens of KiB. */
export const MAX_INPUT_BYTES = 8 * 1024 * 1024;
/** Deepest JSON nesting: dmacheck's formats nest at most 4 levels ($.events[i].sizes). */
export const MAX_JSON_DEPTH = 32;

export type ReadResult = { ok: true; value: unknown } | { ok: false; error: string };

/** Reads and parses `path` as JSON within the limits; a one-line error naming the file otherwise. */
export function readBoundedJson(path: string): ReadResult {
  const text = readBoundedText(path);
  if (!text.ok) return text;
  const deep = depthProblem(text.value);
  if (deep !== null) return { ok: false, error: `${path}: ${deep}` };
  try {
    return { ok: true, value: JSON.parse(text.value) as unknown };
  } catch (e) {
    return { ok: false, error: `${path}: not valid JSON: ${oneLine(e instanceof Error ? e.message : String(e))}` };
  }
}

/** The file's text, or why it is refused. Never blocks: special files are refused before they are opened. */
export function readBoundedText(path: string): { ok: true; value: string } | { ok: false; error: string } {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    return { ok: false, error: `${path}: cannot read: ${fsReason(e)}` };
  }
  const kind = notRegular(st);
  if (kind !== null) return { ok: false, error: `${path}: not a regular file (${kind})` };
  if (st.size > MAX_INPUT_BYTES) return { ok: false, error: tooBig(path, st.size) };
  let fd: number;
  try {
    // O_NONBLOCK: had the file been swapped for a FIFO since the stat, opening it still returns at once.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    return { ok: false, error: `${path}: cannot read: ${fsReason(e)}` };
  }
  try {
    const again = fstatSync(fd);
    const k = notRegular(again);
    if (k !== null) return { ok: false, error: `${path}: not a regular file (${k})` };
    // Read at most one byte past the limit, whatever the size said (the file may be growing).
    const buf = Buffer.alloc(Math.min(again.size, MAX_INPUT_BYTES) + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n === buf.length) break;
    }
    if (n > MAX_INPUT_BYTES) return { ok: false, error: tooBig(path, n) };
    return { ok: true, value: buf.subarray(0, n).toString("utf8") };
  } catch (e) {
    return { ok: false, error: `${path}: cannot read: ${fsReason(e)}` };
  } finally {
    closeSync(fd);
  }
}

/**
 * Why `text` nests deeper than MAX_JSON_DEPTH, or null. A flat scan over
 * brackets outside strings; malformed JSON is left to JSON.parse to report.
 */
export function depthProblem(text: string, max: number = MAX_JSON_DEPTH): string | null {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return `JSON nested deeper than ${max} levels (at character ${i})`;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return null;
}

function notRegular(st: Stats): string | null {
  if (st.isFile()) return null;
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  if (st.isSocket()) return "a socket";
  return "not a file";
}

function tooBig(path: string, size: number): string {
  return `${path}: file too large (${size} bytes; at most ${MAX_INPUT_BYTES} bytes, see docs/limits.md)`;
}

/** Messages on one line. */
export function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ").trim();
}

/** `no such file or directory (ENOENT)` from Node's `ENOENT: no such file or directory, open 'x'`. */
export function fsReason(e: unknown): string {
  if (!(e instanceof Error)) return oneLine(String(e));
  const code = (e as NodeJS.ErrnoException).code;
  const m = /^[A-Z]+: ([^,]*)/.exec(e.message);
  return oneLine(code !== undefined && m !== null ? `${m[1]} (${code})` : e.message);
}
