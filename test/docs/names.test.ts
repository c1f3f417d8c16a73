// Docs and code agree on names: every property and policy named in the docs
// exists in the code's registries (properties/index.ts,
// model/policies/index.ts, model/policies/broken.ts), and every built-in
// property and policy is documented in docs/properties.md and
// docs/policies.md. Also: no page points outside the repository.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ALL_PROPERTIES, NET_PROPERTIES, PROPERTIES } from "../../properties/index.ts";
import {
  BROKEN_GUEST_POLICIES, BROKEN_POLICIES, GUEST_POLICIES, NET_BROKEN_POLICIES, NET_POLICIES, POLICIES, SCOPED_POLICIES, VM_MORSEL_POLICIES,
} from "../../model/policies/index.ts";
import { coiommuUnpinNoCmpxchg } from "../../model/policies/broken.ts";
import { REPO } from "../cli/helpers.ts";

const read = (rel: string): string => readFileSync(join(REPO, rel), "utf8");
const propertyNames = PROPERTIES.map((p) => p.name);
// Networking properties and policies (selected by name, not in the default run) have sections and a page too.
const allPropertyNames = ALL_PROPERTIES.map((p) => p.name);
const sectionNames = [...propertyNames, ...NET_PROPERTIES.map((p) => p.name)]; // vm-confinement's section is in virtualisation.md
const netPolicyNames = [...NET_POLICIES, ...NET_BROKEN_POLICIES, ...GUEST_POLICIES, ...BROKEN_GUEST_POLICIES, ...SCOPED_POLICIES, ...VM_MORSEL_POLICIES].map((p) => p.name);
const policyNames = POLICIES.map((p) => p.name);
// Broken variants, and the one exported outside BROKEN_POLICIES (docs/policies.md says why).
const brokenNames = [...BROKEN_POLICIES.map((p) => p.name), coiommuUnpinNoCmpxchg.name];

/** The markdown files of docs/ (recursively) and the README. */
function docFiles(): string[] {
  const out = ["README.md"];
  const walk = (dir: string) => {
    for (const e of readdirSync(join(REPO, dir), { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith(".md")) out.push(join(dir, e.name));
    }
  };
  walk("docs");
  return out;
}

/** The level-2 headings of a page. */
function headings(text: string): string[] {
  return [...text.matchAll(/^## (.+)$/gm)].map((m) => m[1].trim());
}

/** The rows of the first markdown table after `after` (or of the first table), as arrays of cells. */
function tableAfter(text: string, after: string | RegExp): string[][] {
  const start = typeof after === "string" ? text.indexOf(after) : text.search(after);
  expect(start, String(after)).toBeGreaterThanOrEqual(0);
  const lines = text.slice(start).split("\n");
  const first = lines.findIndex((l) => l.startsWith("|"));
  const rows: string[][] = [];
  for (const l of lines.slice(first)) {
    if (!l.startsWith("|")) break;
    rows.push(l.split("|").slice(1, -1).map((c) => c.trim()));
  }
  return rows;
}

/** Names in backticks in a cell: "`a`, `b`" -> ["a", "b"]. */
const ticked = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);

describe("docs/properties.md", () => {
  const text = read("docs/properties.md");

  it("has one section per property, and no section for a property the code lacks", () => {
    const sections = headings(text).filter((h) => !["Contents", "Grants", "Expected verdicts"].includes(h));
    expect(sections).toEqual(sectionNames);
  });

  it("lists every property in its summary table, each with its file", () => {
    const rows = tableAfter(text, "| property | file |").slice(2);
    expect(rows.map((r) => r[0])).toEqual(allPropertyNames);
    for (const r of rows) {
      expect(r[1]).toBe(`\`properties/${r[0]}.ts\``);
      expect(existsSync(join(REPO, "properties", `${r[0]}.ts`)), r[0]).toBe(true);
    }
  });

  it("the expected-verdict matrix has a column per property and a row per built-in policy", () => {
    const rows = tableAfter(text, "| `dmacheck check` output |");
    expect(rows[0].slice(1)).toEqual(propertyNames);
    expect(rows.slice(2).map((r) => r[0])).toEqual(policyNames);
  });
});

describe("docs/policies.md", () => {
  const text = read("docs/policies.md");

  it("its catalogue is the built-in policies, each with its own page, and docs/policies/ has no other page", () => {
    const rows = tableAfter(text, "| policy | one line | page |").slice(2);
    expect(rows.map((r) => ticked(r[0])[0])).toEqual(policyNames);
    for (const r of rows) expect(r[2]).toContain(`(policies/${ticked(r[0])[0]}.md)`);
    const pages = readdirSync(join(REPO, "docs/policies")).filter((f) => f.endsWith(".md")).map((f) => f.slice(0, -3));
    expect(pages.sort()).toEqual([...policyNames, "page-pool", "maio"].sort());
  });

  it("its broken-variant table names exactly the broken variants of BROKEN_POLICIES", () => {
    const rows = tableAfter(text, "## Broken variants").slice(2);
    const named = rows.flatMap((r) => ticked(r[0]));
    expect([...named].sort()).toEqual(BROKEN_POLICIES.map((p) => p.name).sort());
  });
});

describe("every page", () => {
  const known = new Set([...allPropertyNames, ...policyNames, ...brokenNames, ...netPolicyNames]);

  it("names only policies and properties the code has after --policy and --property", () => {
    const unknown: string[] = [];
    for (const f of docFiles()) {
      const text = read(f);
      for (const m of text.matchAll(/--(policy|property) ([a-z][a-z0-9@-]*(?:,[a-z][a-z0-9@-]*)*)/g)) {
        for (const name of m[2].split(",")) {
          // Placeholders of the usage synopsis: --policy a,b, --property x,y.
          if (name.length > 1 && !known.has(name)) unknown.push(`${f}: --${m[1]} ${name}`);
        }
      }
    }
    expect(unknown).toEqual([]);
  });

  it("no page or source comment points outside the repository (DESIGN.md, shared/reference, shared/seeds)", () => {
    const hits: string[] = [];
    const dirs = ["model", "properties", "checker", "cli", "counterexamples", "docs"];
    const files = [...docFiles()];
    const walk = (dir: string) => {
      for (const e of readdirSync(join(REPO, dir), { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(dir, e.name));
        else if (/\.(ts|md|js)$/.test(e.name)) files.push(join(dir, e.name));
      }
    };
    for (const d of dirs) if (d !== "docs") walk(d);
    for (const f of files) {
      const lines = read(f).split("\n");
      lines.forEach((l, i) => {
        if (/DESIGN\.md|shared\/reference|shared\/seeds/.test(l)) hits.push(`${f}:${i + 1}`);
      });
    }
    expect(hits).toEqual([]);
  });
});
