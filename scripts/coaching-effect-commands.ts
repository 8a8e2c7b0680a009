import type { Command } from 'commander';
import { coachingEffect, markCoaching } from '../coaching/coaching-effect-service.js';
import { renderCoachingEffect } from '../coaching/coaching-effect-render.js';
import { coachingFromItem, itemAgent } from '../coaching/coaching-from-item-service.js';
import type { SituationSource } from '../coaching/situation-suggestion.js';
import { suggestCoachingSituation } from '../coaching/situation-suggestion-service.js';
import { shellWord } from '../diagnosis/coaching-recommendation.js';
import { DEFAULT_COACHING_THRESHOLD } from '../schemas/coaching.js';
import { assertAllowed, principalLabel } from '../schemas/principal.js';
import { UserError } from '../schemas/user-error.js';
import type { CliAction } from './cli-files.js';
import { cliPrincipal } from './cli-credentials.js';
import { actingPerson, refusingIdentityOptions } from './cli-identity.js';
import { depsOf, line, numberOption, print, viewer } from './coaching-commands.js';

/**
 * `flywheel coaching from-item|effect|mark`: a review item's correction as coaching, a
 * coaching's measured effect, and reviewers' marks on its applications. Added to the
 * `coaching` command that scripts/coaching-commands.ts registers.
 */

/** Where a suggested situation came from, as one line. */
const suggestionNote = (source: SituationSource, fallback: string | undefined) =>
  source === 'model'
    ? 'situation suggested by the teacher model; edit it with --situation'
    : `situation quoted from the request (${fallback ?? 'the template'}); edit it with --situation`;

export function registerCoachingEffectCommands(program: Command, action: CliAction): void {
  const coaching = program.commands.find((c) => c.name() === 'coaching');
  if (!coaching) throw new Error('register the coaching command (registerCoachingCommands) first');
  refusingIdentityOptions(coaching.command('from-item <itemId>'))
    .description(
      "turn a review item's correction into coaching: the corrected step as the behaviour, the situation suggested from the conversation",
    )
    .option(
      '--situation <text>',
      'when it applies (default: suggested by the teacher model, else quoted: "When replying to: …")',
    )
    .option(
      '--threshold <x>',
      `similarity (0-1) a conversation needs to recall it (default: calibrated on the embedder from the source conversation against the agent's recent ones; ${DEFAULT_COACHING_THRESHOLD} without enough of them)`,
    )
    .option('--reason <text>', 'why')
    .action(
      action(
        async (ctx, itemId: string, opts: { situation?: string; threshold?: string; reason?: string }) => {
          const deps = await depsOf(ctx);
          const agent = await itemAgent(deps.db, itemId);
          const by = await actingPerson(ctx, opts, { role: 'reviewer' }, agent, `coach ${agent}`);
          const threshold = numberOption('threshold', opts.threshold);
          const created = await coachingFromItem(
            deps,
            itemId,
            {
              ...(opts.situation === undefined ? {} : { situation: opts.situation }),
              ...(threshold === undefined ? {} : { threshold }),
              ...(opts.reason === undefined ? {} : { reason: opts.reason }),
            },
            { reviewer: by.id, author: principalLabel(by) },
          );
          console.log(`created ${line(created.coaching)}`);
          if (created.coaching.thresholdCalibration)
            console.log(`threshold ${created.coaching.thresholdCalibration.summary}`);
          if (opts.situation === undefined && created.suggestionSource !== null)
            console.log(suggestionNote(created.suggestionSource, created.suggestionFallback));
          console.log(
            `from item ${itemId}, ${created.correctionBy}'s correction of trace ${created.coaching.sourceTraceId ?? '?'}`,
          );
          console.log(`test it: flywheel coaching test ${agent} ${created.coaching.id}`);
        },
      ),
    );
  coaching
    .command('suggest <agent>')
    .description(
      'suggest the situation a coaching on a step of a trace applies to, written by the teacher model from the conversation up to the step (else the request, quoted); nothing is stored',
    )
    .requiredOption('--trace <id>', 'the trace the coaching is written on')
    .option('--step <n>', "index in the trace's messages of the step corrected (default: its decision)")
    .option('--json', 'print JSON')
    .action(
      action(async (ctx, agent: string, opts: { trace: string; step?: string; json?: boolean }) => {
        assertAllowed(await cliPrincipal(ctx), { role: 'reviewer' }, agent, `coach ${agent}`);
        const step = numberOption('step', opts.step);
        const suggested = await suggestCoachingSituation(await depsOf(ctx), agent, {
          traceId: opts.trace,
          ...(step === undefined ? {} : { step }),
        });
        if (opts.json) return print(suggested);
        console.log(suggested.situation);
        console.log(suggestionNote(suggested.source, suggested.fallbackReason));
        console.log(
          `use it: flywheel coaching create ${agent} --trace ${opts.trace}${step === undefined ? '' : ` --step ${step}`} --situation ${shellWord(suggested.situation)} --reply '<what the agent should have said>'`,
        );
      }),
    );
  coaching
    .command('effect <agent> <id>')
    .description(
      'where a coaching was applied, success with it vs similar conversations without it (feedback, online judge), marks and thresholds',
    )
    .option('--days <n>', 'how many days back', '30')
    .option('--json', 'print JSON')
    .action(
      action(async (ctx, agent: string, id: string, opts: { days: string; json?: boolean }) => {
        await viewer(ctx, agent, `read the coaching of ${agent}`);
        const effect = await coachingEffect(await depsOf(ctx), agent, id, { days: opts.days });
        if (opts.json) return print(effect);
        console.log(renderCoachingEffect(effect));
      }),
    );
  refusingIdentityOptions(coaching.command('mark <agent> <id> <traceId>'))
    .description(
      "mark one application of a coaching as correctly or wrongly applied; its recall threshold follows every reviewer's marks",
    )
    .option('--correct', 'it was right to apply it there')
    .option('--wrong', 'it should not have been applied there')
    .option('--comment <text>', 'why')
    .action(
      action(
        async (
          ctx,
          agent: string,
          id: string,
          traceId: string,
          opts: { correct?: boolean; wrong?: boolean; comment?: string },
        ) => {
          if (Boolean(opts.correct) === Boolean(opts.wrong))
            throw new UserError('Say how it was applied: --correct or --wrong (one of them).');
          const by = await actingPerson(
            ctx,
            opts,
            { role: 'reviewer' },
            agent,
            `mark a coaching of ${agent}`,
          );
          const result = await markCoaching(
            await depsOf(ctx),
            agent,
            id,
            {
              traceId,
              verdict: opts.correct ? 'correct' : 'wrong',
              ...(opts.comment === undefined ? {} : { comment: opts.comment }),
            },
            principalLabel(by),
          );
          const t = result.threshold;
          console.log(
            `marked ${traceId} ${result.mark.verdict} (similarity ${result.mark.similarity}); threshold ${t.changed ? `${t.before} → ${t.after} (v${result.coaching.version})` : `stays ${t.after}`}`,
          );
          const { wrongStillRecalled, correctNotRecalled } = t.misjudged;
          if (wrongStillRecalled + correctNotRecalled > 0)
            console.log(
              `the threshold still misjudges ${wrongStillRecalled} wrong and ${correctNotRecalled} correct mark(s) within its bounds ${t.bounds.lower}-${t.bounds.upper}: reword the situation or retire the coaching`,
            );
        },
      ),
    );
}
