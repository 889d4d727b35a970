/**
 * What the docs test does with each shell command the documentation shows. Every command found in
 * README.md, docs/**\/*.md, packages/*\/README.md and examples/*\/README.md must match exactly one
 * rule here (an unmatched or doubly matched command fails the test, and so does a rule that no
 * command matches any more), so a new command in the docs comes with a decision:
 *
 * - `run`: executed from the repository root through `bash -c`, with a timeout; it must exit with
 *   `exit` (default 0), and print one JSON object on stdout when it has `--json`. To keep the test
 *   cheap a rule may declare substitutions (`[from, to]`, applied to the command's text, each of
 *   which must occur in it); `${TMP}` in `to` is a temporary directory of the run, so nothing is
 *   written into the repository.
 * - `check`: not run (too slow, a server, a GPU, Redis, or it changes the clone) but verified
 *   statically: the program is there (`npx X` has node_modules/.bin/X; a bare program is a system
 *   one, never a workspace bin that only `npx` finds), `ctrkit <command>` exists and parses its
 *   options exactly as the real command does, with every `--flag` in its `--help`; `npm run S` /
 *   `npm start` / `npm test` name a script of the root or of the `-w` workspace; `npx vitest
 *   --project P` names a project and its filters match test files; `bash scripts/x.sh sub` names a
 *   script with that subcommand; files the command reads exist (relative to `cwd`, default the
 *   repository root; `../shared/data` ones under the skip-or-fail rule of `@ctrkit/test-support`).
 * - `skip`: neither, with the reason.
 *
 * `match` is the command's text as the test prints it (continuations joined, comments dropped,
 * the block's variables and loops expanded): a string matches exactly, a RegExp anywhere.
 */

/** How one command is treated. */
export type CommandPolicy =
  | {
      readonly mode: 'run';
      /** `[from, to]` replacements applied in order; each `from` must occur in the command. */
      readonly substitute?: readonly (readonly [string, string])[];
      /** Expected exit status (default 0). */
      readonly exit?: number;
      /** Milliseconds (default 60,000). */
      readonly timeoutMs?: number;
      /** Why it is cut down, when it is. */
      readonly why?: string;
    }
  | { readonly mode: 'check'; readonly why: string; readonly cwd?: string }
  | { readonly mode: 'skip'; readonly why: string };

/** One row of the table. */
export interface CommandRule {
  readonly match: string | RegExp;
  readonly policy: CommandPolicy;
}

const TMP_MODELS: readonly [string, string] = ['models/', '${TMP}/models/'];

/** The table. Order does not matter: a command must match exactly one row. */
export const COMMAND_RULES: readonly CommandRule[] = [
  // --- installing and the whole suite
  { match: 'npm ci', policy: { mode: 'skip', why: 'reinstalls node_modules under every running test; CI runs it before the tests' } },
  { match: 'npm test', policy: { mode: 'check', why: 'the whole suite, this test included' } },
  { match: 'npm run demo', policy: { mode: 'check', why: 'about a minute; the quickstart example has tests of its own' } },

  // --- the ctrkit command: cheap invocations run, on small inputs
  { match: 'npx ctrkit --help', policy: { mode: 'run' } },
  { match: /^npx ctrkit (help \w+|\w+ --help)$/, policy: { mode: 'check', why: 'one help text each; `npx ctrkit --help` runs the launcher already' } },
  { match: 'npx ctrkit simulate --log synthetic:20000:7 --budget-ratio 1/4 --pacer dual', policy: { mode: 'run' } },
  { match: 'npx ctrkit simulate --log synthetic:20000:7 --budget-ratio 1/4 --pacer dual --json', policy: { mode: 'run' } },
  {
    match: 'npx ctrkit simulate --log synthetic:200000:7 --budget-ratio 1/4 --pacer dual --json',
    policy: { mode: 'run', substitute: [['synthetic:200000:7', 'synthetic:20000:7']], why: 'a tenth of the rows (the generator takes ~7 s for 200,000)' },
  },
  { match: 'npx ctrkit simulate --log synthetic:20000:7 --budget-ratio 0 --pacer dual', policy: { mode: 'run', exit: 2 } },
  { match: 'npx ctrkit train --data synthetic:20000:7 --model lr --out models/quick-lr --json', policy: { mode: 'run', substitute: [TMP_MODELS], why: 'the model goes to a temporary directory' } },
  {
    match: 'npx ctrkit eval --model models/quick-lr --data synthetic:30000:7 --skip-rows 20000 --json',
    policy: { mode: 'run', substitute: [TMP_MODELS], why: 'reads the model the train row wrote to the temporary directory' },
  },
  { match: /^npx ctrkit simulate .*--plot /, policy: { mode: 'check', why: 'writes a plot into the working directory' } },
  { match: /^npx ctrkit simulate --log \.\.\/shared\/data\//, policy: { mode: 'check', why: 'replays a real iPinYou day (seconds to minutes)' } },
  { match: /^npx ctrkit eval .*--report /, policy: { mode: 'check', why: 'writes a report into the working directory' } },
  { match: /^npx ctrkit train --data \.\.\/shared\/data\//, policy: { mode: 'check', why: 'trains on a shared data set: tens of seconds to minutes' } },
  { match: /^npx ctrkit train --data synthetic:[0-9]{7,}:/, policy: { mode: 'check', why: 'millions of synthetic rows: minutes to a quarter of an hour' } },
  { match: /^npx ctrkit report /, policy: { mode: 'check', why: 'reads the reports ad servers wrote to Redis' } },
  { match: /^npx ctrkit train --data clicks\.csv /, policy: { mode: 'skip', why: 'illustrates the CSV options on the reader\'s own file, which the repository does not have' } },

  // --- workspaces' scripts
  { match: /^npm run bench( -w @ctrkit\/[a-z-]+)?$/, policy: { mode: 'check', why: 'benchmarks take minutes and want an idle machine' } },
  { match: 'npm run model -w @ctrkit/example-ad-server', policy: { mode: 'check', why: 'trains the DCN-v2 (~40 s); the ad server tests train small models of their own' } },
  { match: /^EVENT_STREAM=nats (\S+=\S+ )*npm (start|run learner) -w @ctrkit\/example-ad-server$/, policy: { mode: 'check', why: 'long-running fleet processes on NATS; examples/ad-server/test/learning-loop.test.ts starts them' } },
  { match: 'npm run bench:freshness -w @ctrkit/example-ad-server', policy: { mode: 'check', why: 'about eight minutes, two servers, a learner and NATS' } },
  { match: /^(REDIS_URL=\S+ REDIS_PREFIX=\S+ )?npm start -w @ctrkit\/example-ad-server$/, policy: { mode: 'check', why: 'a long-running server; examples/ad-server/test starts it' } },
  { match: 'npm run soak -w @ctrkit/example-ad-server', policy: { mode: 'check', why: 'five minutes of load' } },
  { match: 'npm run bench:hostile -w @ctrkit/example-ad-server', policy: { mode: 'check', why: 'trains the default model when absent, then a minute of hostile load' } },
  { match: /^npm run bench:workers -w @ctrkit\/example-ad-server( -- .+)?$/, policy: { mode: 'check', why: 'trains the default model when absent, then three to four servers under load one after the other (minutes)' } },
  { match: /^WORKERS=\S+ (\S+=\S+ )*npm start -w @ctrkit\/example-ad-server$/, policy: { mode: 'check', why: 'a long-running cluster of servers; examples/ad-server/test/workers.test.ts starts it' } },
  { match: /^npm run (dev|build|preview) -w @ctrkit\/example-browser-demo$/, policy: { mode: 'check', why: 'a dev server, a production build or a static server' } },
  { match: /^curl -s/, policy: { mode: 'check', why: 'needs the ad server running (examples/ad-server/test covers these endpoints)', cwd: 'examples/ad-server' } },

  // --- other test suites, Redis Cluster
  { match: /^(CTRKIT_FAILOVER_CYCLES=\d+ )?(CTRKIT_REDIS_CLUSTER=\$\(bash scripts\/redis-cluster\.sh env\) )?npx vitest run --project [a-z-]+( \S+)*$/, policy: { mode: 'check', why: 'another project\'s tests (Chromium, Redis, trained models)' } },
  { match: /^bash scripts\/redis-cluster\.sh (start|stop|env)$/, policy: { mode: 'check', why: 'starts or stops six redis-server processes' } },
];
