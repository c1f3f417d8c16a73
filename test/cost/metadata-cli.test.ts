// `dmacheck cost --experiment metadata` end to end.

import { describe, expect, it } from "vitest";
import { runCli } from "../cli/helpers.ts";

describe("dmacheck cost --experiment metadata", () => {
  it("--json: rows with scheme, hostBytes, metadataBytes, percent; 16 GiB per TiB for ordinary memory", () => {
    const r = runCli(["cost", "--experiment", "metadata", "--json"]);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(Object.keys(doc.rows[0])).toEqual(["scheme", "hostBytes", "metadataBytes", "percent"]);
    const by = Object.fromEntries(doc.rows.map((x: any) => [x.scheme, x]));
    expect(by.ordinary).toEqual({ scheme: "ordinary", hostBytes: 2 ** 40, metadataBytes: 16 * 2 ** 30, percent: 1.5625 });
    expect(by["hugetlb-2m-hvo"].metadataBytes).toBe(2 * 2 ** 30);
    expect(by["devdax-2m"].metadataBytes).toBe(4 * 2 ** 30);
    expect(by.pageless.metadataBytes).toBe(0);
  });

  it("--host-size scales the host; the table names the schemes", () => {
    const r = runCli(["cost", "--experiment", "metadata", "--host-size", "256GiB"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("host of 256 GiB");
    expect(r.stdout).toMatch(/ordinary\s+4 GiB\s+4294967296\s+1\.5625 %/);
    expect(r.stdout).toMatch(/pageless\s+0 B/);
  });

  it("bad input: one line, exit 2", () => {
    for (const args of [
      ["cost", "--experiment", "nope"],
      ["cost", "--experiment", "metadata", "--host-size", "lots"],
      ["cost", "--experiment", "metadata", "--workload", "net-rx"],
      ["cost", "--host-size", "1TiB"],
    ]) {
      const r = runCli(args);
      expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 2, stdout: "" });
      expect(r.stderr).toMatch(/^dmacheck: [^\n]+\n$/);
    }
  });
});
