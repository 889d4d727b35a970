#!/usr/bin/env node
// The boundary check (`npm run check:deps`, a step of .ci/run):
//
// 1. dependency-cruiser with .dependency-cruiser.cjs: every import is declared by its own
//    package, src/ uses no devDependency, the layering (core ← features ← models; core ← auction,
//    pacing) holds, an optional peer is reachable only from the subpath that needs it, and no
//    import cycle exists (type-only imports included).
// 2. The other direction, which dependency-cruiser does not check: every `dependencies` or
//    `peerDependencies` entry of a published package is imported by that package's src/ (a
//    type-only import counts: it is in the published .d.ts). A dependency only tests use belongs
//    in devDependencies.
//
// Exits 1 on any finding, listing each with the rule's reason.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const published = ['core', 'features', 'models', 'auction', 'pacing', 'cli'];
const started = performance.now();

const bin = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const run = spawnSync(process.execPath, [bin, 'packages', 'examples', 'scripts', '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], {
  cwd: root,
  encoding: 'utf8',
  maxBuffer: 256 * 1024 * 1024,
});
if (run.error !== undefined || (run.status !== 0 && run.stdout.trim() === '')) {
  process.stderr.write(run.stderr);
  throw run.error ?? new Error(`dependency-cruiser exited with ${run.status}`);
}
const result = JSON.parse(run.stdout);
const findings = [];

const comments = new Map(result.summary.ruleSetUsed.forbidden.map((rule) => [rule.name, rule.comment]));
for (const violation of result.summary.violations) {
  // A reachability finding carries its path in `via`, a cycle finding the whole loop in `cycle`.
  const path = violation.via?.length ? violation.via : violation.cycle;
  const via = path?.length ? ` (via ${path.map((step) => step.name ?? step).join(' → ')})` : '';
  findings.push(`${violation.rule.name}: ${violation.from} → ${violation.to}${via}\n    ${comments.get(violation.rule.name) ?? ''}`);
}

for (const name of published) {
  const manifest = JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8'));
  const imported = new Set();
  for (const module of result.modules) {
    if (!module.source.startsWith(`packages/${name}/src/`)) continue;
    for (const dependency of module.dependencies) imported.add(dependency.module);
  }
  const uses = (dep) => [...imported].some((specifier) => specifier === dep || specifier.startsWith(`${dep}/`));
  for (const field of ['dependencies', 'peerDependencies']) {
    for (const dep of Object.keys(manifest[field] ?? {})) {
      if (!uses(dep)) findings.push(`unused-${field}: packages/${name}/package.json lists ${dep} in "${field}" but packages/${name}/src never imports it\n    drop it, or move it to devDependencies if only tests and benchmarks use it`);
    }
  }
}

const seconds = ((performance.now() - started) / 1000).toFixed(1);
if (findings.length > 0) {
  process.stderr.write(`${findings.map((finding) => `  error ${finding}`).join('\n')}\n\n✘ ${findings.length} dependency finding(s) (${seconds} s)\n`);
  process.exit(1);
}
process.stdout.write(
  `✔ dependencies match the code: ${result.summary.totalCruised} modules, ${result.summary.totalDependenciesCruised} imports, ${result.summary.ruleSetUsed.forbidden.length} rules; every declared dependency of ${published.length} packages is imported (${seconds} s)\n`,
);
