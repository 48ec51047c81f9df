// npm run bench: prints figures and ratios against baselines measured in the same run.
// Each part is its own module; a part whose prerequisites are missing says so and
// the others still run.
import { parts } from "./parts.mjs";

const only = process.argv.slice(2);
for (const part of parts) {
  if (only.length && !only.includes(part.id)) continue;
  process.stdout.write(`\n== ${part.title} ==\n`);
  try {
    await part.run();
  } catch (err) {
    process.stdout.write(`  (skipped: ${err?.message ?? err})\n`);
  }
}
