// `dmacheck replay FILE --diff` on corpus counterexamples: each step's changes
// to the decoded state, the violating step's among them; --json gives the same as JSON.
import { describe, expect, it } from "vitest";
import { runMain } from "./in-process.ts";

const FILE = "counterexamples/corpus/strict-free-tables-early--pt-page-safety.json";

describe("replay --diff", () => {
  it("prints the violating step's change: the table frames freed while the directory cache points at them", async () => {
    const r = await runMain(["replay", FILE, "--diff"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const lines = r.stdout.split("\n");
    const at = lines.indexOf("step 3: unmap cpu0 mapping#0  <- violates pt-page-safety");
    expect(at).toBeGreaterThan(0);
    const step3 = lines.slice(at + 1, lines.indexOf("", at));
    expect(step3).toContain("  ~ frame 8: role iommu-page-table -> free, owner \"dom 0\" -> -, order 0 -> 3, detail \"IOMMU level 1 table, pages 0x200..0x3ff\" -> \"\", contents zeroes -> \"the kernel's data\"");
    expect(step3).toContain("  - pte frame 8 [7]: table=\"IOMMU dom 0 L1\" format=amd-v1 iova=0x207000 present=yes leaf=yes target=6 read=yes write=no entry=\"PTE 4 KiB -> pfn 0x6 IR FC\" raw=0x3000000000006001");
    expect(step3).toContain("  ~ mapping #0: status mapped -> unmapping");
    // The directory cache still points at frame 7 (the level-2 table): filled at step 2, whose access below the
    // mapping (IOVA page 504; the mapping has the window's top, 519) walked the root only; step 3 does not remove it.
    expect(lines).toContain("  + pde-cache dom 0 L3 0x0: level=3 iova=0x0 pages=262144 table=7 nextLevel=2 read=yes write=yes");
    expect(step3.some((l) => l.includes("pde-cache"))).toBe(false);
    expect(r.stdout).toMatch(/VIOLATION of pt-page-safety at step 3: /);
    // Byte for byte the same on a second run.
    expect((await runMain(["replay", FILE, "--diff"])).stdout).toBe(r.stdout);
  });

  it("says so when a step changes nothing", async () => {
    const r = await runMain(["replay", "counterexamples/corpus/lazy--iotlb-coherence.json", "--diff"]);
    expect(r.stdout).toContain("step 4: dma dev0 read page 15 +0x0 len 1  <- violates iotlb-coherence\n  (no change)\n");
    expect(r.stdout).toContain("  + flush-queue cpu0 dom 0 0x207000: cpu=0 dom=0 iova=0x207000 pages=1 counter=0");
  });

  it("gives the same changes as JSON with --json", async () => {
    const r = await runMain(["replay", FILE, "--diff", "--json"]);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.trace).toHaveLength(3);
    expect(doc.initial.some((x: { kind: string }) => x.kind === "frame")).toBe(true);
    const step3 = doc.trace[2].changes;
    expect(step3).toContainEqual({ change: "changed", kind: "mapping", key: "#0", fields: [{ field: "status", before: "mapped", after: "unmapping" }] });
    expect(step3.find((c: { kind: string; key: string }) => c.kind === "pte" && c.key === "frame 8 [7]")).toMatchObject({ change: "removed", record: { target: 6, read: true, write: false } });
    // Without --diff the JSON has no changes.
    const plain = JSON.parse((await runMain(["replay", FILE, "--json"])).stdout);
    expect(plain.trace[0].changes).toBeUndefined();
  });

  it("cannot be combined with --vitest", async () => {
    const r = await runMain(["replay", FILE, "--diff", "--vitest"]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});
