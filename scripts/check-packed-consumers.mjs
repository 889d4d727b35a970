#!/usr/bin/env node
/**
 * Packed-consumer check: what a user gets from npm, not what the workspace resolves.
 *
 * Packs every public workspace package (`npm pack`), installs the tarballs together into fresh
 * projects under os.tmpdir() (outside the repo, so no workspace link or `@ctrkit/source` path can
 * leak in; `--ignore-scripts`, as onnxruntime-node's postinstall downloads CUDA files), then:
 *
 * - full project (tarballs + every optional peer, at the versions package-lock.json tests with,
 *   + @types/node): for every subpath of every package's `exports` (but ./package.json) an ESM
 *   file that imports it and a CJS file that requires it, each run with node: it must resolve to
 *   the build for its format (dist/*.js for import, dist/*.cjs for require), expose at least one
 *   named export, and both formats must expose the same names. Then an `.mts` and a `.cts`
 *   consumer importing every runtime name of every subpath are type-checked by the repo's
 *   TypeScript (module/moduleResolution node16, strict, noEmit, no skipLibCheck);
 * - bare project (tarballs + @types/node: no optional peer, so no onnxruntime-node either; a
 *   package that depends on a peer outright is left out, with a note): every
 *   subpath must load in both formats, except those that need an optional peer, which must fail
 *   with an error that names the package to install (NEEDS_PEER below); the ones that load must
 *   type-check the same way, but those whose declarations use a peer's types (TYPES_NEED_PEER);
 * - the `ctrkit` bin of the installed @ctrkit/cli answers `--help`.
 *
 * Assumes `npm run build` has run. Prints one line per check and a summary; exits 1 on any failure.
 * Removes its temporary directories (`--keep` leaves them, for debugging).
 *
 * Usage: node scripts/check-packed-consumers.mjs [--keep]   (npm run check:packed)
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const keep = process.argv.includes('--keep');
const started = performance.now();

/** Subpaths that import an optional peer at load time: without it they must fail naming one of these. */
const NEEDS_PEER = {
  '@ctrkit/core/prometheus': ['prom-client'],
  '@ctrkit/core/nats': ['@nats-io/transport-node', '@nats-io/jetstream'],
  '@ctrkit/features/redis': ['ioredis'],
};

/** Subpaths that load without their peer but whose declarations use its types (the host passes its own client). */
const TYPES_NEED_PEER = {
  '@ctrkit/pacing/redis': ['ioredis'],
};

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
let failures = 0;
let passes = 0;
const ok = (what, detail = '') => {
  passes += 1;
  console.log(`ok    ${what}${detail ? `  (${detail})` : ''}`);
};
const fail = (what, detail) => {
  failures += 1;
  console.log(`FAIL  ${what}\n        ${String(detail).trim().replaceAll('\n', '\n        ')}`);
};

function run(command, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options, env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', (error) => resolve({ code: -1, stdout, stderr: `${stderr}${error.message}` }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function mapLimit(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

// --- the public packages, and the files their manifests point at --------------------------------

function workspaceDirs() {
  const dirs = [];
  for (const pattern of readJson(join(root, 'package.json')).workspaces ?? []) {
    if (pattern.endsWith('/*')) {
      const parent = join(root, pattern.slice(0, -2));
      for (const entry of readdirSync(parent, { withFileTypes: true })) if (entry.isDirectory() && existsSync(join(parent, entry.name, 'package.json'))) dirs.push(join(parent, entry.name));
    } else if (!pattern.includes('*')) dirs.push(join(root, pattern));
    else throw new Error(`workspace pattern ${pattern} is not supported by this script (only dir and dir/*)`);
  }
  return dirs;
}

/** Every file path an exports entry (a string or a conditions object) points at, with its condition chain. */
function targets(entry, chain = []) {
  if (typeof entry === 'string') return [{ chain, path: entry }];
  if (entry === null) return [];
  if (Array.isArray(entry)) return entry.flatMap((item) => targets(item, chain));
  return Object.entries(entry).flatMap(([condition, value]) => targets(value, [...chain, condition]));
}

const packages = workspaceDirs()
  .map((dir) => ({ dir, manifest: readJson(join(dir, 'package.json')) }))
  .filter(({ manifest }) => manifest.private !== true);
if (packages.length === 0) throw new Error('no public workspace package found');

const missingBuild = [];
for (const { dir, manifest } of packages) {
  const paths = [manifest.main, manifest.module, manifest.types, ...Object.values(typeof manifest.bin === 'string' ? { bin: manifest.bin } : (manifest.bin ?? {}))];
  for (const [subpath, entry] of Object.entries(manifest.exports ?? {})) paths.push(...targets(entry).map((t) => t.path).filter(() => subpath !== './package.json'));
  for (const path of new Set(paths.filter(Boolean))) if (!existsSync(join(dir, path))) missingBuild.push(relative(root, join(dir, path)));
}
if (missingBuild.length > 0) {
  console.error(`check-packed-consumers: ${missingBuild.length} file(s) the package manifests point at are missing, e.g.\n  ${missingBuild.slice(0, 8).join('\n  ')}\nRun \`npm run build\` first.`);
  process.exit(1);
}

/** The subpaths to check, as import specifiers. */
const specifiers = packages.flatMap(({ manifest }) =>
  Object.keys(manifest.exports ?? { '.': manifest.main })
    .filter((subpath) => subpath !== './package.json')
    .map((subpath) => (subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`)),
);
const packageOf = (spec) => packages.find(({ manifest }) => spec === manifest.name || spec.startsWith(`${manifest.name}/`)).manifest.name;

// --- optional peers, at the versions the repo tests with -----------------------------------------

const lock = readJson(join(root, 'package-lock.json'));
const lockedVersion = (name) => {
  const version = lock.packages?.[`node_modules/${name}`]?.version;
  if (version === undefined) throw new Error(`${name} is not in package-lock.json; the check installs what the repo tests with`);
  return version;
};
const optionalPeers = [
  ...new Set(packages.flatMap(({ manifest }) => Object.keys(manifest.peerDependencies ?? {}).filter((name) => manifest.peerDependenciesMeta?.[name]?.optional === true))),
].sort();
const requiredPeers = packages.flatMap(({ manifest }) => Object.keys(manifest.peerDependencies ?? {}).filter((name) => manifest.peerDependenciesMeta?.[name]?.optional !== true));
if (requiredPeers.length > 0) throw new Error(`required peer dependencies (${requiredPeers.join(', ')}): this check expects peers to be optional`);
/** The optional peers a package brings along anyway, as a dependency of its own or of one of our packages it depends on. */
const broughtPeers = (name, seen = new Set()) => {
  if (seen.has(name)) return [];
  seen.add(name);
  const manifest = packages.find((p) => p.manifest.name === name)?.manifest;
  if (manifest === undefined) return [];
  return [...new Set(Object.keys(manifest.dependencies ?? {}).flatMap((dep) => (optionalPeers.includes(dep) ? [dep] : broughtPeers(dep, seen))))];
};

// --- pack, install -------------------------------------------------------------------------------

const work = mkdtempSync(join(tmpdir(), 'ctrkit-packed-'));
const cleanup = () => {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
};
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

try {
  const tarballDir = join(work, 'tarballs');
  mkdirSync(tarballDir);
  const pack = await run('npm', ['pack', '--json', '--pack-destination', tarballDir, ...packages.flatMap(({ manifest }) => ['-w', manifest.name])], { cwd: root });
  if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.stderr}`);
  const packed = JSON.parse(pack.stdout);
  const tarballs = new Map();
  for (const { manifest } of packages) {
    const info = packed.find((p) => p.name === manifest.name);
    if (info === undefined) {
      fail(`pack ${manifest.name}`, 'npm pack reported no tarball');
      continue;
    }
    tarballs.set(manifest.name, join(tarballDir, info.filename));
    // Everything the manifest points at must be in the tarball (the `files` field).
    const inTarball = new Set(info.files.map((f) => f.path));
    const wanted = new Set([manifest.main, manifest.module, manifest.types, ...Object.values(typeof manifest.bin === 'string' ? { bin: manifest.bin } : (manifest.bin ?? {}))].filter(Boolean));
    for (const entry of Object.values(manifest.exports ?? {})) for (const t of targets(entry)) wanted.add(t.path);
    const absent = [...wanted].map((p) => p.replace(/^\.\//, '')).filter((p) => !inTarball.has(p));
    if (absent.length > 0) fail(`pack ${manifest.name}`, `the tarball lacks ${absent.join(', ')} (check "files")`);
    else ok(`pack ${manifest.name}`, `${info.filename}, ${info.entryCount} files, ${(info.size / 1024).toFixed(0)} KB`);
  }

  const makeProject = async (name, names, extra) => {
    const dir = join(work, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: `ctrkit-packed-${name}`, version: '0.0.0', private: true }, null, 2)}\n`);
    const t0 = performance.now();
    const install = await run('npm', ['install', ...names.map((n) => tarballs.get(n)), ...extra, '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir });
    if (install.code !== 0) throw new Error(`npm install in ${name} failed:\n${install.stderr}`);
    // The tarballs' own cross-dependencies must resolve to the tarballs, not to a registry copy.
    const nested = names.flatMap((n) => {
      const inner = join(dir, 'node_modules', n, 'node_modules', '@ctrkit');
      return existsSync(inner) ? readdirSync(inner).map((m) => `${n} → @ctrkit/${m}`) : [];
    });
    if (nested.length > 0) fail(`install ${name}`, `nested @ctrkit copies (not our tarballs): ${nested.join(', ')}`);
    else ok(`install ${name}`, `${names.length} tarballs${extra.length ? ` + ${extra.join(' ')}` : ''}, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return dir;
  };

  // @types/node is no peer of ours but what a Node consumer that type-checks has; both get it.
  const typesNode = `@types/node@${lockedVersion('@types/node')}`;
  // The bare project leaves out the packages that bring an optional peer along as a dependency
  // (a user of the others must not need it), and says so.
  const bareNames = [];
  for (const name of tarballs.keys()) {
    const brought = broughtPeers(name);
    if (brought.length === 0) bareNames.push(name);
    else console.log(`note  ${name} is left out of the bare project: it depends on ${brought.join(', ')}`);
  }
  const [bare, full] = await Promise.all([
    makeProject('bare', bareNames, [typesNode]),
    makeProject('full', [...tarballs.keys()], [...optionalPeers.map((name) => `${name}@${lockedVersion(name)}`), typesNode]),
  ]);
  const bareSpecifiers = specifiers.filter((spec) => bareNames.includes(packageOf(spec)));

  const presentPeers = optionalPeers.filter((name) => existsSync(join(bare, 'node_modules', name)));
  if (presentPeers.length > 0) fail('bare project has no optional peer', `installed anyway: ${presentPeers.join(', ')}`);
  else ok('bare project has no optional peer', optionalPeers.join(', '));

  // --- load every subpath from ESM and CommonJS ----------------------------------------------------

  const probeDir = (dir, specs) => {
    const probes = join(dir, 'probes');
    mkdirSync(probes, { recursive: true });
    return specs.map((spec, i) => {
      const lit = JSON.stringify(spec);
      const esm = join(probes, `${i}.mjs`);
      const cjs = join(probes, `${i}.cjs`);
      const report = `const names = Object.keys(ns).filter((k) => k !== 'default' && k !== '__esModule').sort();`;
      writeFileSync(
        esm,
        `let ns;\ntry { ns = await import(${lit}); } catch (error) { console.log(JSON.stringify({ error: String(error?.message ?? error), code: error?.code })); process.exit(0); }\n${report}\nconsole.log(JSON.stringify({ resolved: import.meta.resolve(${lit}), names }));\n`,
      );
      writeFileSync(
        cjs,
        `let ns;\ntry { ns = require(${lit}); } catch (error) { console.log(JSON.stringify({ error: String(error?.message ?? error), code: error?.code })); process.exit(0); }\n${report}\nconsole.log(JSON.stringify({ resolved: require.resolve(${lit}), names }));\n`,
      );
      return { spec, esm, cjs };
    });
  };

  const probe = async (file, cwd) => {
    const result = await run(process.execPath, [file], { cwd });
    const line = result.stdout.trim().split('\n').at(-1) ?? '';
    try {
      return JSON.parse(line);
    } catch {
      return { error: `the probe exited ${result.code} without a report:\n${result.stderr.trim().split('\n').slice(0, 6).join('\n')}` };
    }
  };

  const preview = (names) => `${names.length} named export${names.length === 1 ? '' : 's'}: ${names.slice(0, 4).join(', ')}${names.length > 4 ? ', …' : ''}`;

  // Full project: every subpath loads in both formats, from the right build, with the same names.
  const fullProbes = probeDir(full, specifiers);
  const fullResults = await mapLimit(fullProbes, 2, async (p) => ({ ...p, esmResult: await probe(p.esm, full), cjsResult: await probe(p.cjs, full) }));
  const runtimeNames = new Map();
  for (const { spec, esmResult, cjsResult } of fullResults) {
    for (const [format, result, extension] of [
      ['esm', esmResult, /\/dist\/[^/]+\.m?js$/],
      ['cjs', cjsResult, /\/dist\/[^/]+\.cjs$/],
    ]) {
      const what = `${format} ${spec}`;
      if (result.error !== undefined) fail(what, `${result.code ? `${result.code}: ` : ''}${result.error}`);
      else if (!extension.test(result.resolved.replace(/\\/g, '/'))) fail(what, `resolved to ${result.resolved}, not the ${format} build`);
      else if (result.names.length === 0) fail(what, 'loaded but exposes no named export');
      else ok(what, preview(result.names));
    }
    if (esmResult.names !== undefined && cjsResult.names !== undefined) {
      const onlyEsm = esmResult.names.filter((n) => !cjsResult.names.includes(n));
      const onlyCjs = cjsResult.names.filter((n) => !esmResult.names.includes(n));
      if (onlyEsm.length + onlyCjs.length > 0) fail(`esm = cjs ${spec}`, `only in ESM: ${onlyEsm.join(', ') || '-'}; only in CJS: ${onlyCjs.join(', ') || '-'}`);
      else ok(`esm = cjs ${spec}`, `same ${esmResult.names.length} names`);
      runtimeNames.set(spec, esmResult.names);
    }
  }

  // Bare project: no optional peer installed. Everything but the peer-backed subpaths must load
  // (so @ctrkit/features and @ctrkit/models/browser never load onnxruntime-node); those must fail
  // naming the package to install.
  const bareProbes = probeDir(bare, bareSpecifiers);
  const bareResults = await mapLimit(bareProbes, 2, async (p) => ({ ...p, esmResult: await probe(p.esm, bare), cjsResult: await probe(p.cjs, bare) }));
  for (const { spec, esmResult, cjsResult } of bareResults) {
    for (const [format, result] of [
      ['esm', esmResult],
      ['cjs', cjsResult],
    ]) {
      const peers = NEEDS_PEER[spec];
      const what = `no peers, ${format} ${spec}`;
      if (peers === undefined) {
        if (result.error !== undefined) fail(what, `needs no optional peer but failed: ${result.error}`);
        else ok(what, 'loads with no optional peer installed');
      } else if (result.error === undefined) fail(what, `expected to need ${peers.join(' / ')} but loaded without it; update NEEDS_PEER in this script`);
      else {
        const named = peers.filter((peer) => result.error.includes(`'${peer}'`) || result.error.includes(`"${peer}"`) || result.error.includes(` ${peer} `));
        const first = result.error.split('\n')[0];
        if (named.length === 0) fail(what, `fails without naming ${peers.join(' or ')}: ${first}`);
        else ok(what, `fails naming ${named.join(', ')}: ${first.replace(/ imported from .*/, '')}`);
      }
    }
  }

  // --- type-check every subpath from an ESM and a CJS consumer under node16 ------------------------

  const ident = (s) => s.replace(/[^A-Za-z0-9_$]/g, '_');
  const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  const tsVersion = readJson(createRequire(join(root, 'package.json')).resolve('typescript/package.json')).version;
  /** Writes an .mts and a .cts consumer importing every given runtime name, type-checks both. */
  const typecheck = async (dir, label, specs) => {
    const lines = [];
    const uses = [];
    for (const spec of specs) {
      const names = runtimeNames.get(spec) ?? [];
      const prefix = ident(spec.replace('@ctrkit/', ''));
      lines.push(`import { ${names.map((n) => `${n} as ${prefix}__${n}`).join(', ')} } from ${JSON.stringify(spec)};`);
      uses.push(...names.map((n) => `${prefix}__${n}`));
    }
    const source = `// Generated by scripts/check-packed-consumers.mjs: every runtime export of these subpaths, typed.\n${lines.join('\n')}\nexport const used = [${uses.join(', ')}];\n`;
    writeFileSync(join(dir, 'consumer.mts'), source);
    writeFileSync(join(dir, 'consumer.cts'), source);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      `${JSON.stringify({ compilerOptions: { module: 'node16', moduleResolution: 'node16', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] }, files: ['consumer.mts', 'consumer.cts'] }, null, 2)}\n`,
    );
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json', '--pretty', 'false'], { cwd: dir });
    const count = specs.reduce((n, spec) => n + (runtimeNames.get(spec)?.length ?? 0), 0);
    const errors = result.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
    for (const format of ['mts', 'cts']) {
      const mine = errors.filter((l) => l.startsWith(`consumer.${format}`));
      const what = `${label}types ${format} (node16, strict)`;
      if (mine.length > 0) fail(what, mine.slice(0, 12).join('\n'));
      else if (result.code !== 0 && errors.length === 0) fail(what, `tsc exited ${result.code}:\n${result.stdout}${result.stderr}`);
      else ok(what, `${specs.length} subpaths, ${count} names, TypeScript ${tsVersion}`);
    }
    const libErrors = errors.filter((l) => !/^consumer\.[mc]ts/.test(l));
    if (libErrors.length > 0) fail(`${label}types of the installed declarations (no skipLibCheck)`, libErrors.slice(0, 12).join('\n'));
    else ok(`${label}types of the installed declarations (no skipLibCheck)`);
  };
  await typecheck(full, '', [...runtimeNames.keys()]);
  // Without the peers, the subpaths that load without them must type-check too (a TypeScript user
  // of @ctrkit/features or @ctrkit/models/browser needs no ioredis or onnxruntime types), except
  // those whose declarations take a peer's types.
  const typesNeedPeer = new Set([...Object.keys(NEEDS_PEER), ...Object.keys(TYPES_NEED_PEER)]);
  await typecheck(bare, 'no peers, ', [...runtimeNames.keys()].filter((spec) => bareSpecifiers.includes(spec) && !typesNeedPeer.has(spec)));

  // --- the bin -------------------------------------------------------------------------------------

  for (const { manifest } of packages) {
    const bins = typeof manifest.bin === 'string' ? { [manifest.name.split('/').at(-1)]: manifest.bin } : (manifest.bin ?? {});
    for (const name of Object.keys(bins)) {
      const result = await run(join(full, 'node_modules', '.bin', name), ['--help'], { cwd: full });
      if (result.code !== 0) fail(`bin ${name} --help`, `exited ${result.code}: ${result.stderr || result.stdout}`);
      else ok(`bin ${name} --help`, result.stdout.trim().split('\n')[0]);
    }
  }
} catch (error) {
  fail('check-packed-consumers', error instanceof Error ? (error.stack ?? error.message) : error);
} finally {
  cleanup();
}

const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`\n${failures === 0 ? 'OK' : 'FAIL'}: ${passes} checks passed, ${failures} failed; ${packages.length} packages, ${specifiers.length} subpaths, ${seconds} s`);
process.exit(failures === 0 ? 0 : 1);
