// A slow consumer of a pipe, for output-drain.test.ts: reads its stdin in
// 4 KiB chunks with a pause before each, so the writer finds the pipe full
// (64 KiB on Linux) and must wait for it to drain. Writes what it read to the
// file named by its argument.
import { readSync, writeFileSync } from "node:fs";

const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const chunks = [];
const buf = Buffer.alloc(4096);
pause(200);
for (;;) {
  let n;
  try {
    n = readSync(0, buf, 0, buf.length, null);
  } catch (e) {
    if (e.code === "EAGAIN") { pause(5); continue; }
    throw e;
  }
  if (n === 0) break;
  chunks.push(Buffer.from(buf.subarray(0, n)));
  pause(10);
}
writeFileSync(process.argv[2], Buffer.concat(chunks));
