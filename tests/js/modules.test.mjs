// The page's modules as a whole: every import names something its module exports, each module
// stays small, the pages load them as modules only (the CSP allows no inline script), and no
// module shares state through a global.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { test } from "node:test";

import { assessmentFile, readAssessmentFile } from "../../src/scalepredict/api/static/scenarios.js";
import { createState } from "../../src/scalepredict/api/static/state.js";

const STATIC = new URL("../../src/scalepredict/api/static/", import.meta.url);
const modules = readdirSync(STATIC).filter((f) => f.endsWith(".js"));
const source = (name) => readFileSync(new URL(name, STATIC), "utf8");
const ENTRIES = ["app.js", "docs.js"]; // they run the page when loaded, so are read, not imported

test("every import of every module names an export of its module", async () => {
  assert.ok(modules.length >= 10, modules.join(", "));
  for (const name of modules) {
    for (const [, names, from] of source(name).matchAll(/^import \{([^}]*)\} from "\.\/([\w-]+\.js)";$/gm)) {
      assert.ok(modules.includes(from), `${name} imports a missing ${from}`);
      assert.ok(!ENTRIES.includes(from), `${name} imports the entry module ${from}`);
      const exported = await import(new URL(from, STATIC));
      for (const wanted of names.split(",").map((n) => n.trim()).filter(Boolean))
        assert.ok(wanted in exported, `${name} imports ${wanted}, which ${from} does not export`);
    }
    assert.doesNotMatch(source(name), /^import .* from "(?!\.\/)/m, `${name} imports from outside the page`);
  }
});

test("each module stays under 350 lines", () => {
  for (const name of modules) {
    const lines = source(name).split("\n").length;
    assert.ok(lines <= 350, `${name}: ${lines} lines`);
  }
});

test("the pages load their entry module and nothing else, no inline script", () => {
  for (const [page, entry] of [["index.html", "app.js"], ["docs.html", "docs.js"]]) {
    const scripts = [...source(page).matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    assert.deepEqual(scripts, [`<script type="module" src="/static/${entry}">`], page);
    assert.doesNotMatch(source(page), /<script\b[^>]*>[^<\s]/, `${page} has an inline script`);
  }
});

test("no module keeps state in a global: the one handle on window is the entry's", () => {
  for (const name of modules) {
    const text = source(name);
    const set = [...text.matchAll(/\b(?:window|globalThis|self)\.(\w+)\s*=(?!=)/g)].map((m) => m[1]);
    assert.deepEqual(set, name === "app.js" ? ["scalepredict"] : [], name);
    if (name !== "app.js") assert.doesNotMatch(text, /scalepredict\.state/, `${name} reads the test handle`);
  }
});

test("a saved assessment file opens again with its proposal and scenarios", () => {
  const state = createState();
  state.scored = { initiative_id: "A-1", benefit: 2 };
  state.ownScenarios = [{ name: "Mine", probability: 0.5, effort: null, changes: { benefit: 4 } }];
  const opened = readAssessmentFile(JSON.stringify(assessmentFile(state)));
  assert.deepEqual(opened, { proposal: state.scored, scenarios: state.ownScenarios });
  const older = readAssessmentFile(JSON.stringify({ format: "scalepredict-assessment", version: 1, proposal: {} }));
  assert.deepEqual(older.scenarios, []);
  assert.throws(() => readAssessmentFile('{"format": "other", "proposal": {}}'), /not an assessment file/);
  assert.throws(() => readAssessmentFile("not json"), SyntaxError);
});
