import assert from "node:assert/strict";
import { test } from "node:test";

import {
  assessed,
  changedText,
  countBy,
  createState,
  factorChanges,
  filterChoices,
  filtered,
  forgetAssessment,
  label,
  portfolioFrom,
  rankForReport,
  recordFor,
  saveScenario,
  scenarios,
  sortPortfolio,
  useCatalogue,
  weakestDimension,
} from "../../src/scalepredict/api/static/state.js";
import { catalogue } from "./catalogue.mjs";

const signedIn = () => {
  const state = createState();
  useCatalogue(state, catalogue());
  return state;
};

const plan = {
  actions: [
    { factor: "benefit", from: 2, to: 4, effort: "medium", expected_probability: 0.5 },
    { factor: "quality", from: 1, to: 3, effort: "high", expected_probability: 0.6 },
  ],
};

test("each page gets its own state, nothing shared between two", () => {
  const a = createState();
  const b = createState();
  a.labels.x = "X";
  a.ownScenarios.push({});
  a.sort.key = "probability";
  assert.deepEqual(b.labels, {});
  assert.deepEqual(b.ownScenarios, []);
  assert.equal(b.sort.key, null);
  assert.equal(a.importedScenarios, null); // declared, not left to appear
});

test("labels come from the catalogue, else the name in words", () => {
  const state = signedIn();
  assert.equal(label(state, "benefit"), "Benefit");
  assert.equal(label(state, "value"), "Value");
  assert.equal(label(state, "city"), "City"); // a context field without a label
  assert.equal(label(state, "stage"), "Stage");
  assert.equal(label(state, "context"), "Context");
  assert.equal(label(state, "proof"), "Proof of value");
  assert.equal(label(state, "not_in_it"), "Not in it");
  assert.equal(state.factorDimension.quality, "data");
});

test("a what-if is the factors changed; a changed context is no what-if", () => {
  const cat = catalogue();
  const scored = { city: "Lyon", benefit: 2, users: null, quality: 3 };
  assert.deepEqual(factorChanges(cat, scored, { ...scored }), { changes: {}, contextChanged: false });
  assert.deepEqual(factorChanges(cat, scored, { ...scored, benefit: 4, users: 1 }), {
    changes: { benefit: 4, users: 1 },
    contextChanged: false,
  });
  assert.equal(factorChanges(cat, scored, { ...scored, city: "Nice" }).contextChanged, true);
});

test("a change reads as its label, from what was assessed to what is tried", () => {
  const state = signedIn();
  state.scored = { benefit: 2, users: null };
  assert.equal(changedText(state, { benefit: 4, users: 3 }), "Benefit 2 \u2192 4; Users unknown \u2192 3");
  assert.equal(changedText(state, { benefit: null }), "Benefit 2 \u2192 unknown");
  assert.equal(changedText(state, {}), "none");
});

test("scenarios: as assessed, each plan step cumulative with its effort, then the planner's own", () => {
  const state = signedIn();
  assert.deepEqual(scenarios(state), []);
  assessed(state, { benefit: 2, quality: 1 }, { probability: 0.3, plan });
  const [first, one, two] = scenarios(state);
  assert.deepEqual(first, { name: "As assessed", probability: 0.3, effort: 0, changes: {} });
  assert.deepEqual(one, { name: "Plan step 1", probability: 0.5, effort: 2, changes: { benefit: 4 }, step: 0 });
  assert.deepEqual(two, { name: "Plan step 2", probability: 0.6, effort: 6, changes: { benefit: 4, quality: 3 }, step: 1 });

  assert.equal(saveScenario(state, "Mine"), null); // nothing tried yet
  state.shown = { assessment: { probability: 0.45 }, whatif: { changes: { users: 4 } } };
  assert.equal(saveScenario(state, "").name, "What-if 1");
  assert.equal(saveScenario(state, "Mine").name, "Mine");
  state.shown.whatif.changes.users = 1; // a saved scenario keeps its own copy
  assert.deepEqual(scenarios(state).slice(3), [
    { name: "What-if 1", probability: 0.45, effort: null, changes: { users: 4 } },
    { name: "Mine", probability: 0.45, effort: null, changes: { users: 4 } },
  ]);
});

test("an opened file's scenarios come with its assessment; forgetting clears all", async () => {
  const state = signedIn();
  state.importedScenarios = [{ name: "From the file", probability: 0.7, effort: null, changes: {} }];
  const seq = state.whatifSeq;
  assessed(state, { benefit: 2 }, { probability: 0.3, plan: { actions: [] } });
  assert.equal(state.whatifSeq, seq + 1); // a what-if in flight is about the old proposal
  assert.equal(state.importedScenarios, null);
  assert.deepEqual(scenarios(state).map((s) => s.name), ["As assessed", "From the file"]);
  assessed(state, { benefit: 3 }, { probability: 0.4, plan: { actions: [] } });
  assert.deepEqual(state.ownScenarios, []); // the next assessment starts without them
  state.shown = { assessment: state.assessment, whatif: null };
  state.planFor = state.assessment;
  let ran = false;
  state.whatifTimer = setTimeout(() => (ran = true), 0); // a what-if typed just before
  const inFlight = state.whatifSeq;
  forgetAssessment(state);
  assert.deepEqual([state.scored, state.assessment, state.shown, state.planFor], [null, null, null, null]);
  assert.ok(state.whatifSeq > inFlight); // one in flight may not fill the result
  await new Promise((done) => setTimeout(done, 5));
  assert.equal(ran, false); // and the one pending never runs
});

const results = [
  { initiative_id: "A-1", probability: 0.2, risk_band: "high", uncertainty: "wide", explanation: { dimension_points: { value: -5, data: 1 } }, decision: "do not fund", cost: 20 },
  { initiative_id: "A-2", probability: 0.7, risk_band: "low", uncertainty: "narrow", explanation: { dimension_points: { value: 2, data: -1 } }, decision: "fund", cost: 10 },
  { initiative_id: "A-3", probability: 0.4, risk_band: "moderate", uncertainty: "wide", explanation: { dimension_points: { value: 0, data: 0 } }, decision: "do not fund", cost: 5 },
];

const scoredPortfolio = () => {
  const state = signedIn();
  state.portfolioRows = [
    { initiative_id: "A-1", city: "Lyon", sector: "energy" },
    { initiative_id: "A-2", city: "Nice", sector: "energy" },
    { initiative_id: "A-3", city: "Lyon", sector: "energy" },
  ];
  portfolioFrom(state, { results, budget: { chosen: 1 } });
  return state;
};

test("the weakest dimension is the one taking the most points away", () => {
  const cat = catalogue();
  assert.deepEqual(weakestDimension(cat, results[0].explanation), { name: "value", value: -5 });
  assert.deepEqual(weakestDimension(cat, results[1].explanation), { name: "data", value: -1 });
  assert.deepEqual(weakestDimension(cat, results[2].explanation), { name: "value", value: 0 }); // a tie: the first
});

test("the portfolio's rows carry their uploaded record, weakest dimension and decision", () => {
  const state = scoredPortfolio();
  const [a, b] = state.portfolio;
  assert.equal(a.weakest, "Value");
  assert.deepEqual(a.record, { initiative_id: "A-1", city: "Lyon", sector: "energy" });
  assert.equal(a.decision, "do not fund");
  assert.equal(b.decision, "fund");
  assert.deepEqual(state.budget, { chosen: 1 });
  const ranked = createState();
  useCatalogue(ranked, catalogue());
  portfolioFrom(ranked, { results: [{ ...results[0], decision: undefined, cost: undefined }] });
  assert.deepEqual([ranked.portfolio[0].decision, ranked.portfolio[0].cost, ranked.budget], [null, null, null]);
  assert.deepEqual(recordFor(state, "nope"), {});
  state.catalogue.identifier = null; // no identifier named: any cell equal to the id
  assert.equal(recordFor(state, "A-2").city, "Nice");
});

test("a header sorts by its column, again the other way; risk by band, funded first", () => {
  const state = scoredPortfolio();
  const ids = () => state.portfolio.map((r) => r.initiative_id);
  sortPortfolio(state, "probability");
  assert.deepEqual(ids(), ["A-1", "A-3", "A-2"]);
  assert.deepEqual(state.sort, { key: "probability", ascending: true });
  sortPortfolio(state, "probability");
  assert.deepEqual(ids(), ["A-2", "A-3", "A-1"]);
  sortPortfolio(state, "risk_band");
  assert.deepEqual(ids(), ["A-1", "A-3", "A-2"]); // high, moderate, low
  sortPortfolio(state, "decision");
  assert.equal(ids()[0], "A-2");
  rankForReport(state); // with a budget: funded first, then by chance
  assert.deepEqual(ids(), ["A-2", "A-3", "A-1"]);
  assert.deepEqual(state.sort, { key: null, ascending: true });
  state.budget = null;
  state.portfolio[0].probability = 0.1;
  rankForReport(state);
  assert.deepEqual(ids(), ["A-3", "A-1", "A-2"]);
});

test("filters: the categories and the grouping field with two values or more", () => {
  const state = scoredPortfolio();
  const choices = filterChoices(state).map(([f, values]) => [f.name, values]);
  assert.deepEqual(choices, [["city", ["Lyon", "Nice"]]]); // one sector only: no filter
  assert.deepEqual(filtered(state.portfolio, { city: "Lyon" }).map((r) => r.initiative_id), ["A-1", "A-3"]);
  assert.equal(filtered(state.portfolio, { city: "" }).length, 3); // "All"
  assert.deepEqual(countBy(state.portfolio, "risk_band", ["high", "elevated", "moderate", "low"]), [
    ["high", 1],
    ["elevated", 0],
    ["moderate", 1],
    ["low", 1],
  ]);
});
