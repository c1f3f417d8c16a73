// struct-page metadata (model/memory-metadata.ts): the figures of Linux
// Documentation/mm/vmemmap_dedup.rst and the issue, per TiB of host memory.

import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import {
  GIB, METADATA_SCHEMES, MIB, TIB, findMetadataScheme, metadataBytes, metadataRows, vmemmapPagesFreedPerUnit, vmemmapPagesPerUnit,
} from "../../model/memory-metadata.ts";
import { formatBytes, parseHostSize } from "../../checker/experiments/metadata.ts";

const scheme = (n: string) => {
  const s = findMetadataScheme(n);
  if (s === undefined) throw new Error(n);
  return s;
};

describe("struct page metadata per TiB", () => {
  const byScheme = Object.fromEntries(metadataRows(TIB).map((r) => [r.scheme, r]));

  it("ordinary memory: 16 GiB per TiB, 1.5625 %", () => {
    expect(byScheme.ordinary).toEqual({ scheme: "ordinary", hostBytes: TIB, metadataBytes: 16 * GIB, percent: 1.5625 });
  });
  it("HugeTLB 2 MiB with HVO: 2 GiB per TiB (7 of 8 vmemmap pages freed)", () => {
    expect(byScheme["hugetlb-2m-hvo"].metadataBytes).toBe(2 * GIB);
    expect(vmemmapPagesPerUnit(scheme("hugetlb-2m-hvo"))).toBe(8);
    expect(vmemmapPagesFreedPerUnit(scheme("hugetlb-2m-hvo"))).toBe(7);
  });
  it("HugeTLB 1 GiB with HVO: 4095 of 4096 freed, 4 MiB per TiB", () => {
    expect(vmemmapPagesPerUnit(scheme("hugetlb-1g-hvo"))).toBe(4096);
    expect(vmemmapPagesFreedPerUnit(scheme("hugetlb-1g-hvo"))).toBe(4095);
    expect(byScheme["hugetlb-1g-hvo"].metadataBytes).toBe(4 * MIB);
  });
  it("device-dax 2 MiB compound pages: 6 of 8 freed, 4 GiB per TiB", () => {
    expect(vmemmapPagesFreedPerUnit(scheme("devdax-2m"))).toBe(6);
    expect(byScheme["devdax-2m"].metadataBytes).toBe(4 * GIB);
  });
  it("pageless memory: 0", () => {
    expect(byScheme.pageless).toEqual({ scheme: "pageless", hostBytes: TIB, metadataBytes: 0, percent: 0 });
  });
  it("HugeTLB without HVO keeps every struct page: as ordinary", () => {
    expect(byScheme["hugetlb-2m"].metadataBytes).toBe(16 * GIB);
    expect(vmemmapPagesFreedPerUnit(scheme("hugetlb-2m"))).toBe(0);
  });
  it("rows are in catalogue order with the four named fields", () => {
    const rows = metadataRows(TIB);
    expect(rows.map((r) => r.scheme)).toEqual(METADATA_SCHEMES.map((s) => s.scheme));
    for (const r of rows) expect(Object.keys(r)).toEqual(["scheme", "hostBytes", "metadataBytes", "percent"]);
  });

  test.prop([fc.integer({ min: 1, max: 2 ** 20 })])("metadata is linear in whole 1 GiB hosts and ordered pageless < 1g-hvo < 2m-hvo < devdax < ordinary", (gib) => {
    const host = gib * GIB;
    const m = (n: string) => metadataBytes(scheme(n), host);
    expect(m("ordinary")).toBe(gib * 16 * MIB);
    expect(m("ordinary") / host).toBe(64 / 4096);
    expect(m("pageless")).toBe(0);
    expect(m("hugetlb-1g-hvo")).toBeLessThan(m("hugetlb-2m-hvo"));
    expect(m("hugetlb-2m-hvo") * 2).toBe(m("devdax-2m"));
    expect(m("devdax-2m") * 4).toBe(m("ordinary"));
  });

  it("a partial unit still needs its struct pages", () => {
    expect(metadataBytes(scheme("hugetlb-1g-hvo"), 1)).toBe(4096);
    expect(metadataBytes(scheme("ordinary"), 4097)).toBe(128);
  });
});

describe("--host-size parsing", () => {
  it("accepts binary units and bytes, rejects the rest", () => {
    expect(parseHostSize("1TiB")).toBe(TIB);
    expect(parseHostSize("512 GiB")).toBe(512 * GIB);
    expect(parseHostSize("4096")).toBe(4096);
    expect(parseHostSize("1.5gib")).toBe(1.5 * GIB);
    for (const bad of ["", "0", "-1", "1XB", "1TB", "abc", "1e3", "99999999999PiB"]) expect(parseHostSize(bad)).toBeNull();
    expect([formatBytes(16 * GIB), formatBytes(0), formatBytes(4 * MIB), formatBytes(100)]).toEqual(["16 GiB", "0 B", "4 MiB", "100 B"]);
  });
});
