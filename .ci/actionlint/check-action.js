// Checks action.yml, which actionlint's WebAssembly build cannot read when a workflow
// says `uses: ./`: it must parse, be a composite action, give every `run` step a shell,
// and refer only to inputs it declares and step ids that exist.
"use strict";
const fs = require("fs");
const path = require("path");
const YAML = require(path.join(process.env.ACTIONLINT_CACHE, "node_modules", "yaml"));

const file = process.argv[2] || "action.yml";
const problems = [];
let action;
try {
  action = YAML.parse(fs.readFileSync(file, "utf8"), { strict: true, uniqueKeys: true });
} catch (e) {
  console.error(`${file}: ${e.message}`);
  process.exit(1);
}
for (const key of ["name", "description", "runs"]) {
  if (!action[key]) problems.push(`missing "${key}"`);
}
const inputs = new Set(Object.keys(action.inputs || {}));
const steps = (action.runs && action.runs.steps) || [];
if (!action.runs || action.runs.using !== "composite") problems.push('runs.using must be "composite"');
const ids = new Set(steps.filter((s) => s.id).map((s) => s.id));
steps.forEach((step, i) => {
  if (step.run && !step.shell) problems.push(`step ${i + 1} (${step.name || "unnamed"}) runs a script without "shell"`);
});
const text = fs.readFileSync(file, "utf8");
for (const m of text.matchAll(/\binputs\.([A-Za-z0-9_-]+)/g)) {
  if (!inputs.has(m[1])) problems.push(`refers to undeclared input "${m[1]}"`);
}
for (const m of text.matchAll(/\bsteps\.([A-Za-z0-9_-]+)\.outputs/g)) {
  if (!ids.has(m[1])) problems.push(`refers to unknown step id "${m[1]}"`);
}
for (const [name, output] of Object.entries(action.outputs || {})) {
  if (!output || !output.value) problems.push(`output "${name}" has no value`);
}
if (problems.length) {
  for (const p of problems) console.error(`${file}: ${p}`);
  process.exit(1);
}
console.log(`${file}: ${inputs.size} inputs, ${Object.keys(action.outputs || {}).length} outputs, ${steps.length} steps`);
