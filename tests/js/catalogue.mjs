// A small catalogue as GET /catalogue answers it (two dimensions, a context with a category,
// a grouping field, a date and a cost), for the page's unit tests.
export const catalogue = () => ({
  name: "test",
  title: "Test initiatives",
  identifier: "initiative_id",
  group: "city",
  stage: "stage",
  scale: { min: 1, max: 5, labels: {} },
  efforts: { low: 1, medium: 2, high: 4 },
  themes: { proof: { label: "Proof of value" } },
  context: [
    { name: "initiative_id", type: "text", label: "Initiative ID" },
    { name: "city", type: "text" },
    { name: "stage", type: "category", categories: ["pilot", "scale_up"], label: "Stage" },
    { name: "sector", type: "category", categories: ["mobility", "energy"] },
    { name: "assessed_on", type: "date", label: "Assessed on" },
    { name: "budget_eur", type: "integer", label: "Budget (EUR)" },
  ],
  dimensions: [
    {
      name: "value",
      label: "Value",
      factors: [
        { name: "benefit", label: "Benefit", rubric: { 1: "None", 5: "Proven" } },
        { name: "users", label: "Users", rubric: {}, scale: { min: 1, max: 4, labels: { 4: "Many" } } },
      ],
    },
    { name: "data", label: "Data", factors: [{ name: "quality", label: "Data quality", rubric: {} }] },
  ],
  examples: [],
});
