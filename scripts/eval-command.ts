import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Option, type Command, type CommanderError } from 'commander';
import { createLlmRoles } from '../llm/llm-roles.js';
import { parseCandidatePromptFile } from '../registry/candidate-prompt-file.js';
import { parseFailOn } from '../release/gate-ci-verdict.js';
import { renderGateEvalJunit } from '../release/gate-eval-junit.js';
import { renderGateEvalMarkdown } from '../release/gate-eval-markdown.js';
import { renderGateEvalTable } from '../release/gate-eval-table.js';
import { evaluatePromptGate, type CandidateSpec } from '../release/prompt-eval-service.js';
import { EVAL_EXIT } from '../schemas/gate-eval.js';
import { assertAllowed, principalLabel } from '../schemas/principal.js';
import { UserError } from '../schemas/user-error.js';
import { CliContext } from './cli-context.js';
import { cliPrincipal } from './cli-credentials.js';
import { readJsonFile, readTextFile } from './cli-files.js';
import { readRuntimeState } from './load-config.js';

interface EvalOptions {
  agent: string;
  prompt?: string;
  version?: string;
  label?: string;
  dataset?: string;
  gate?: string;
  failOn?: string;
  coaching?: string;
  json?: boolean;
  junit?: string;
  markdown?: string;
  seed: string;
}

/**
 * Exactly one of --prompt, --version, --label names the candidate; none, with --coaching,
 * gates the coaching set on the production prompt.
 */
function candidateOf(opts: EvalOptions): CandidateSpec {
  const given = (['prompt', 'version', 'label'] as const).filter((k) => opts[k] !== undefined);
  if (given.length === 0 && opts.coaching !== undefined) return { source: 'production', ref: 'production' };
  if (given.length !== 1)
    throw new UserError(
      given.length === 0
        ? 'Name the candidate: --prompt <file> (a prompt file in your checkout), --version <n> or --label <label> (a registry version), or --coaching candidates (the candidate coaching on the production prompt).'
        : `Name one candidate, not ${given.map((k) => `--${k}`).join(' and ')}.`,
    );
  if (opts.prompt !== undefined)
    return {
      source: 'file',
      ref: opts.prompt,
      prompt: parseCandidatePromptFile(opts.prompt, readTextFile(opts.prompt)),
    };
  if (opts.version !== undefined) return { source: 'version', ref: opts.version };
  return { source: 'label', ref: opts.label! };
}

function writeOutput(file: string, text: string, what: string): void {
  try {
    writeFileSync(file, text);
  } catch (e) {
    throw new UserError(
      `Cannot write the ${what} to ${file} (${e instanceof Error ? e.message : String(e)}): does its folder exist?`,
    );
  }
}

async function runEval(ctx: CliContext, opts: EvalOptions): Promise<number> {
  // Everything the user typed is checked before any connection or model call.
  if (opts.coaching !== undefined && opts.coaching !== 'candidates')
    throw new UserError(
      `--coaching takes "candidates" (the agent's candidate coaching, beside the active), not "${opts.coaching}".`,
    );
  const candidate = candidateOf(opts);
  const failOn = opts.failOn === undefined ? null : parseFailOn(opts.failOn);
  const gate =
    opts.gate === undefined
      ? undefined
      : { source: opts.gate, override: readJsonFile(opts.gate, 'gate configuration') };
  if (!/^\d+$/.test(opts.seed)) throw new UserError(`--seed must be a whole number, got "${opts.seed}".`);
  // The models a `flywheel dev` announced when none is configured here (its simulator, say).
  const models = ctx.config.models ?? readRuntimeState(ctx.config)?.models;
  if (!models)
    throw new UserError(
      'No model endpoint: set FLYWHEEL_LLM_BASE_URL and FLYWHEEL_AGENT_MODEL / FLYWHEEL_JUDGE_MODEL / FLYWHEEL_TEACHER_MODEL (the simulator serves sim-agent, sim-judge, sim-teacher), or run it next to `flywheel dev`.',
    );
  const db = await ctx.database();
  const principal = await cliPrincipal(ctx);
  assertAllowed(principal, { role: 'viewer' }, opts.agent, `evaluate a prompt of ${opts.agent}`);
  const result = await evaluatePromptGate(
    { db, llm: createLlmRoles(models, db), concurrency: ctx.config.llmConcurrency, now: () => new Date() },
    {
      agent: opts.agent,
      candidate,
      dataset: opts.dataset,
      gate,
      failOn,
      coaching: opts.coaching === 'candidates' ? 'candidates' : undefined,
      seed: Number(opts.seed),
      evaluatedBy: principalLabel(principal),
    },
  );
  if (opts.junit) writeOutput(opts.junit, renderGateEvalJunit(result, hostname()), 'JUnit report');
  if (opts.markdown) writeOutput(opts.markdown, renderGateEvalMarkdown(result), 'Markdown report');
  console.log(opts.json ? JSON.stringify(result, null, 2) : renderGateEvalTable(result));
  return result.exitCode;
}

/**
 * `flywheel eval`: the regression gate as a CI step. It runs here, in this process, the way
 * the other read commands do: the database from DATABASE_URL (or a running `flywheel dev`),
 * the person from FLYWHEEL_TOKEN or `flywheel login`, and the models from the same
 * FLYWHEEL_* settings as a worker (the simulator offline). Exit 0 pass, 1 fail,
 * 2 inconclusive, 3 a usage or runtime error.
 */
export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description(
      'gate a candidate prompt (or coaching set) against production as a CI step: exit 0 pass, 1 fail, 2 inconclusive, 3 usage or runtime error',
    )
    .option('--agent <agent>', 'agent id', 'demo')
    .option(
      '--prompt <file>',
      'candidate prompt file: text (the system prompt) or JSON {prompt, config} as `prompt show` prints',
    )
    .option('--version <n>', "candidate: a registry version of the agent's prompt")
    .option('--label <label>', 'candidate: the registry version a label points at (e.g. candidate)')
    .option(
      '--dataset <ref>',
      "dataset version or dataset (default: the agent's dataset, newest published version)",
    )
    .option('--gate <file>', "JSON gate configuration applied over the agent's (agents.config.gate fields)")
    .option(
      '--fail-on <dimensions>',
      'comma-separated dimensions that fail the build (default: all the gate measures)',
    )
    .option(
      '--coaching <set>',
      "candidates: gate the agent's candidate coaching too (recalled per example in the candidate's arm; both arms recall the active coaching)",
    )
    .option('--json', 'print the result as JSON')
    .option('--junit <file>', 'also write a JUnit XML report')
    .option('--markdown <file>', 'also write a Markdown report (a pull-request comment)')
    .addOption(new Option('--seed <n>', 'seed of the replays, judges and bootstrap').default('1'))
    // Commander's own usage errors (unknown option, missing value) are exit 3 too.
    .exitOverride((error: CommanderError) => {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help') process.exit(0);
      process.exit(EVAL_EXIT.error);
    })
    .action(async (opts: EvalOptions) => {
      let ctx: CliContext | undefined;
      try {
        ctx = new CliContext();
        process.exitCode = await runEval(ctx, opts);
      } catch (error) {
        console.error(`flywheel eval: ${error instanceof Error ? error.message : String(error)}`);
        if (process.env.FLYWHEEL_DEBUG && error instanceof Error) console.error(error.stack);
        process.exitCode = EVAL_EXIT.error;
      } finally {
        await ctx?.close().catch(() => undefined);
      }
    });
}
