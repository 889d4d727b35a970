// The boundary check (`npm run check:deps`): every import is declared by its own package, published
// code (`src/`) uses no devDependency, the packages point one way (core ← features ← models;
// core ← auction, pacing; cli on top), an optional peer (ioredis, prom-client, onnxruntime-*)
// is reachable only from the subpath that needs it, and no import cycle exists anywhere.
//
// Why dependency-cruiser: it resolves each import the way Node does (the exports map with our
// `@ctrkit/source` condition, so `@ctrkit/features` lands on packages/features/src), classifies it
// against the closest package.json, and checks both forbidden arrows and reachability from an
// entry file — layering, undeclared imports and "the browser entry never reaches
// onnxruntime-node" in one tool. Unused declarations are the other half, which it does not see:
// scripts/check-deps.mjs (which runs this config) compares each package's `dependencies` and
// `peerDependencies` with what its src/ imports, from the same cruise.
//
// The rules below are generated from the package.json files, so adding a dependency or an export
// needs no edit here; the layering is written out by hand so that a package.json change cannot
// legalize an arrow against it.
'use strict';

const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const root = __dirname;
const published = ['core', 'features', 'models', 'auction', 'pacing', 'cli'];
const manifest = (dir) => JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
const packages = Object.fromEntries(published.map((name) => [name, manifest(`packages/${name}`)]));
const shortName = (npmName) => npmName.replace(/^@ctrkit\//, '');
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const alternatives = (names) => `(${names.map(escape).join('|')})`;

/** The arrows the design allows: core ← features ← models; core ← auction, pacing; cli on top. */
const LAYERS = {
  core: [],
  features: ['core'],
  models: ['core', 'features'],
  auction: ['core'],
  pacing: ['core'],
  cli: ['core', 'features', 'models', 'auction', 'pacing'],
};

/** Which optional peers each entry (exports subpath) may load; every other entry reaches none. */
const PEERS_BY_ENTRY = {
  'core/prometheus': ['prom-client'],
  'core/nats': ['@nats-io/transport-node', '@nats-io/jetstream'],
  'features/redis': ['ioredis'],
  'pacing/redis': ['ioredis'],
  'models/node': ['onnxruntime-node'],
  'models/browser': ['onnxruntime-web'],
};

const optionalPeers = [
  ...new Set(
    Object.values(packages).flatMap((pkg) =>
      Object.entries(pkg.peerDependenciesMeta ?? {})
        .filter(([, meta]) => meta.optional)
        .map(([name]) => name),
    ),
  ),
].sort();

const layering = published
  .map((name) => ({ name, against: published.filter((other) => other !== name && !LAYERS[name].includes(other)) }))
  .filter(({ against }) => against.length > 0)
  .map(({ name, against }) => ({
    name: `layering-${name}`,
    comment: `@ctrkit/${name} may import only ${LAYERS[name].map((p) => `@ctrkit/${p}`).join(', ') || 'itself'} (core ← features ← models; core ← auction, pacing)`,
    severity: 'error',
    from: { path: `^packages/${name}/` },
    to: { path: `^packages/${alternatives(against)}/` },
  }));
// Published code never imports the private test helpers (tests and benchmarks may).
layering.push({
  name: 'src-not-to-test-support',
  comment: '@ctrkit/test-support is private: only tests, benchmarks and examples may import it',
  severity: 'error',
  from: { path: '^packages/(?!test-support/)[^/]+/src/' },
  to: { path: '^packages/test-support/' },
});

/** Sibling packages a package's files may import: dependencies for src/, plus devDependencies for tests. */
function undeclaredWorkspace(name, pkg) {
  const declared = (fields) => new Set(fields.flatMap((field) => Object.keys(pkg[field] ?? {})).filter((dep) => dep.startsWith('@ctrkit/')).map(shortName));
  const all = [...published, 'test-support'];
  const rules = [];
  const forSrc = declared(['dependencies', 'peerDependencies']);
  const forDev = declared(['dependencies', 'peerDependencies', 'devDependencies']);
  const srcUndeclared = all.filter((other) => other !== name && !forSrc.has(other));
  const devUndeclared = all.filter((other) => other !== name && !forDev.has(other));
  if (srcUndeclared.length > 0) {
    rules.push({
      name: `undeclared-workspace-${name}`,
      comment: `packages/${name}/src imports a @ctrkit package its package.json "dependencies" do not list`,
      severity: 'error',
      from: { path: `^packages/${name}/src/` },
      to: { path: `^packages/${alternatives(srcUndeclared)}/` },
    });
  }
  if (devUndeclared.length > 0) {
    rules.push({
      name: `undeclared-workspace-dev-${name}`,
      comment: `packages/${name} (tests, benchmarks) imports a @ctrkit package its package.json does not list`,
      severity: 'error',
      from: { path: `^packages/${name}/`, pathNot: `^packages/${name}/src/` },
      to: { path: `^packages/${alternatives(devUndeclared)}/` },
    });
  }
  return rules;
}

/** Each exported subpath's entry file (the `@ctrkit/source` condition) and its key, e.g. models/node. */
function entries(name, pkg) {
  return Object.entries(pkg.exports ?? {})
    .filter(([, target]) => typeof target === 'object' && target['@ctrkit/source'])
    .map(([subpath, target]) => ({ key: subpath === '.' ? name : `${name}/${subpath.slice(2)}`, file: join('packages', name, target['@ctrkit/source']) }));
}

const peerReachability = published.flatMap((name) =>
  entries(name, packages[name])
    .filter(({ key }) => name !== 'cli' || key !== 'cli') // the CLI is a Node program over every package
    .flatMap(({ key, file }) => {
      const forbidden = optionalPeers.filter((peer) => !(PEERS_BY_ENTRY[key] ?? []).includes(peer));
      if (forbidden.length === 0) return [];
      return [
        {
          name: `optional-peer-${key.replace('/', '-')}`,
          comment: `@ctrkit/${key} must not load ${forbidden.join(', ')}: an optional peer is loaded only by the subpath that needs it (${Object.entries(PEERS_BY_ENTRY)
            .map(([entry, peers]) => `${peers.join(', ')} by @ctrkit/${entry}`)
            .join('; ')})`,
          severity: 'error',
          from: { path: `^${escape(file.replaceAll('\\', '/'))}$` },
          to: { path: `(^|/)node_modules/${alternatives(forbidden)}/`, reachable: true },
        },
      ];
    }),
);

module.exports = {
  forbidden: [
    {
      name: 'not-to-unresolvable',
      comment: 'an import that does not resolve: a typo, a missing file, or a package that is not installed',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-undeclared-package',
      comment: "an import of an npm package that the importing file's package.json (or the root's, for tests) does not declare",
      severity: 'error',
      from: { pathNot: '^node_modules/' },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'src-not-to-dev-dependency',
      comment: 'published code (packages/*/src) imports a package that only devDependencies list: consumers will not have it',
      severity: 'error',
      from: { path: '^packages/[^/]+/src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['npm', 'npm-peer', 'npm-optional'] },
    },
    {
      name: 'no-circular',
      // A cycle means neither module can be read, tested or moved without the other, and at run
      // time one of them sees the other half-initialized (an import that is `undefined` until the
      // cycle unwinds). Type-only imports count too (tsPreCompilationDeps below): they are in the
      // published .d.ts, and a type import for a doc link is how the first cycle crept in. When a
      // type is needed both ways, move it to the module both already import.
      comment: 'an import cycle: move what both modules need into a third that imports neither, so dependencies point one way',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layering,
    ...published.flatMap((name) => undeclaredWorkspace(name, packages[name])),
    ...peerReachability,
  ],
  options: {
    doNotFollow: { path: ['node_modules'] },
    exclude: { path: ['^(packages|examples)/[^/]+/(dist|\\.turbo)/', '^docs/api/'] },
    // Type-only imports count: they end up in the published .d.ts files.
    tsPreCompilationDeps: true,
    // Tests and benchmarks use the root's devDependencies (vitest, fast-check, …); combining the
    // package.json files from a module up to the root lets them, while src/ is held to its own
    // package by src-not-to-dev-dependency and no-undeclared-package.
    combinedDependencies: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['@ctrkit/source', 'types', 'import', 'require', 'node', 'default'],
      extensions: ['.ts', '.d.ts', '.js', '.mjs', '.cjs', '.json'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
