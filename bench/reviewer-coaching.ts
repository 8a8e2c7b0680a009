import { unitInterval } from '../optimizers/stable-hash.js';
import type { CoachingBehaviour, CreateCoachingRequest } from '../schemas/coaching.js';
import type { AgentAction } from '../schemas/trace.js';
import type { Scenario } from '../test/simulator/scenario.js';
import type { ReviewerLabel } from './simulated-reviewers.js';

/**
 * The simulated reviewers' coaching for bench:flywheel (arms `coaching` and `both`): when a
 * reviewer labels a queued failure with the expected step, they also write candidate
 * coaching for it, once per kind of request a week. The situation is written as a person
 * who knows that kind of request would write it: the corrected request with its
 * particulars (names, ids, codes, places, dates, greetings) left out, keeping only the words
 * every request of that kind shares (the scenario's ground truth: the examples of the
 * failure mode). With probability `errorRate` the coaching is wrongly scoped: the reviewer
 * names only the most common word of the request ("When a customer writes about a
 * reservation"). A label that was itself wrong (a "fail" on a right answer, another step
 * as expected) gives coaching that teaches the wrong step. A kind whose requests need
 * different steps (synthetic-12's routine requests read alike and need one of three
 * actions) gets none: no situation a reviewer can state tells its requests apart.
 */

type Example = Scenario['examples'][number];

/** The kind of request an example is: its failure mode, else its tags (routine requests). */
export function kindOf(example: Example): string {
  if (example.rule !== null) return `rule:${example.rule}`;
  const tags = example.tags.filter((t) => !t.startsWith('judge-')).sort();
  return `tags:${tags.join(',')}`;
}

/** Words a reviewer never writes into a situation: greetings and politeness. */
const GREETINGS = new Set(['hi', 'hello', 'hey', 'please', 'thanks', 'thank', 'yes', 'ok', 'okay']);

/** The request's words, lower-cased, with the particulars (anything with a digit, `_` or a capital inside) dropped. */
function plainWords(text: string): string[] {
  const out: string[] = [];
  const raw = text.split(/[\s,;:.!?()"]+/).filter(Boolean);
  raw.forEach((token, i) => {
    const word = token.replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9']+$/g, '');
    if (!word || /[\d_]/.test(word) || /.[A-Z]/.test(word)) return;
    // A capitalised word that does not start a sentence is a name (a person, a city).
    const startsSentence = i === 0 || /[.!?:]$/.test(raw[i - 1]!);
    if (/^[A-Z]/.test(word) && !startsSentence && word !== 'I' && !word.startsWith("I'")) return;
    out.push(word.toLowerCase());
  });
  return out;
}

/** Whether every request of the example's kind needs the same step (a situation can then be stated). */
export function oneStepKind(scenario: Scenario, example: Example): boolean {
  const kind = kindOf(example);
  return (
    new Set(scenario.examples.filter((e) => kindOf(e) === kind).map((e) => e.expected.action)).size === 1
  );
}

/** Words shared by every request of the example's kind (the scenario's examples of it). */
export function sharedWords(scenario: Scenario, example: Example): Set<string> {
  const kind = kindOf(example);
  const group = scenario.examples.filter((e) => kindOf(e) === kind);
  const sets = group.map((e) => new Set(plainWords(e.request)));
  return new Set([...sets[0]!].filter((w) => sets.every((s) => s.has(w))));
}

/**
 * The situation a reviewer writes for the request of `example`: "When a customer writes:
 * my reservation is basic economy … move it to the flight … later", the request in its own
 * order with what is particular to this conversation left out, so every request of the kind
 * falls in it and the words are the customer's.
 */
export function reviewerSituation(scenario: Scenario, example: Example): string {
  const shared = sharedWords(scenario, example);
  const kept = plainWords(example.request).filter((w) => shared.has(w) && !GREETINGS.has(w));
  const deduped = kept.filter((w, i) => w !== kept[i - 1]);
  return deduped.length === 0
    ? 'When a customer writes without a clear request'
    : `When a customer writes: ${deduped.join(' ')}`;
}

/** Words too common to scope anything: a wrongly scoped coaching names the most widespread other one. */
const SCOPE_STOP = new Set(
  "a an the to of in on at by for with from and or is are was be it its my me i i'm you your we our this that me can what need".split(
    ' ',
  ),
);

/**
 * A wrongly scoped situation: the request's word (not a function word) that most requests of
 * the scenario contain, e.g. "When a customer writes about reservation" — it fits many
 * kinds of request besides the one corrected.
 */
export function overBroadSituation(scenario: Scenario, example: Example): string {
  const words = [...new Set(plainWords(example.request))].filter(
    (w) => !SCOPE_STOP.has(w) && !GREETINGS.has(w),
  );
  const spread = (w: string) => scenario.examples.filter((e) => plainWords(e.request).includes(w)).length;
  const widest = [...words].sort((a, b) => spread(b) - spread(a) || a.localeCompare(b))[0];
  return widest ? `When a customer writes about ${widest}` : 'When a customer writes';
}

/** The behaviour shown for an expected step, in the form `coaching create` takes. */
export function behaviourOf(scenario: Scenario, expected: AgentAction): CoachingBehaviour {
  const tool = scenario.actions.find((a) => a.name === expected.action);
  if (expected.action === 'respond' || !tool) {
    const text =
      typeof expected.content === 'string' && expected.content.trim()
        ? expected.content
        : 'I can help with that.';
    return { kind: 'reply', text };
  }
  if (/transfer/.test(expected.action)) {
    const summary = (expected.arguments as { summary?: unknown }).summary;
    return {
      kind: 'transfer',
      reason: typeof summary === 'string' && summary.trim() ? summary : 'the customer needs a human agent',
    };
  }
  return { kind: 'tool_call', tool: expected.action, arguments: { ...expected.arguments } };
}

export interface ReviewerCoaching {
  /** The kind of request it was written for (the dedupe key). */
  kind: string;
  /** Ground truth, for the report: the coaching teaches the wrong step, or is scoped too widely. */
  wrongBehaviour: boolean;
  overBroad: boolean;
  request: CreateCoachingRequest;
}

/**
 * The candidate coaching reviewers write for a week's labels: one per kind of request whose
 * label is a "fail" with an expected step (the first such label of the kind), skipping kinds
 * in `skip` (written in an earlier week and still waiting as a candidate) and kinds whose
 * requests need different steps. `traceOf` gives the
 * trace an item is about (its source), `exampleOf` the scenario example a trace was drawn from.
 */
export function reviewerCoaching(
  scenario: Scenario,
  labels: readonly ReviewerLabel[],
  lookup: {
    traceOf: (itemId: string) => string | undefined;
    exampleOf: (traceId: string) => string | undefined;
  },
  options: { errorRate: number; seed: number; skip?: ReadonlySet<string> },
): ReviewerCoaching[] {
  const out: ReviewerCoaching[] = [];
  const done = new Set(options.skip ?? []);
  for (const label of labels) {
    if (label.verdict !== 'fail' || !label.expected) continue;
    const traceId = lookup.traceOf(label.itemId);
    const example = scenario.examples.find((e) => e.id === (traceId && lookup.exampleOf(traceId)));
    if (!traceId || !example) continue;
    const kind = kindOf(example);
    if (done.has(kind) || !oneStepKind(scenario, example)) continue;
    done.add(kind);
    const overBroad = unitInterval(`coaching-scope|${traceId}`, options.seed) < options.errorRate;
    out.push({
      kind,
      wrongBehaviour: label.expected.action !== example.expected.action,
      overBroad,
      request: {
        situation: overBroad ? overBroadSituation(scenario, example) : reviewerSituation(scenario, example),
        behaviour: behaviourOf(scenario, label.expected),
        sourceTraceId: traceId,
        reason: `bench reviewer: correction of item ${label.itemId}`,
        candidate: true,
      },
    });
  }
  return out;
}
