import type { AgentAction } from '../../schemas/trace.js';
import type { Scenario } from './scenario.js';

/**
 * How the simulated agent reads coaching: few-shot examples in the OpenAI cookbook form
 * (system messages named `example_user` and `example_assistant`), the user turn starting
 * with `Situation: <when it applies>`. Like a model, it follows an example when the request
 * in front of it falls in the situation the example names, and then does what the example's
 * assistant turn does. Falling in the situation means every content word of the situation
 * (not the framing: "when a customer asks to ...") appears in the request, up to simple
 * inflection; so a situation written too broadly ("when a customer mentions a reservation")
 * fires on requests it was not meant for, as a wrongly scoped coaching does.
 */

export interface CoachingExample {
  situation: string;
  /** The assistant turn of the example, as written. */
  behaviour: string;
}

const FRAMING = new Set(
  (
    'when whenever if a an the to for of in on at by with about from and or is are be been it its ' +
    'this that these those their them they his her my me i you your we our customer customers user users ' +
    'passenger passengers client someone somebody person asks ask asked asking wants want wanting mentions ' +
    'mention mentioned says say request requests requesting replying reply responding respond talks ' +
    'talking wishes would like needs need tries try trying message writes'
  ).split(' '),
);

const stem = (word: string) => word.replace(/(ing|ed|es|s)$/, '').replace(/e$/, '');

const words = (text: string) => text.toLowerCase().match(/[a-z0-9]+/g) ?? [];

/** The situation's content words, stemmed. */
export function situationTerms(situation: string): string[] {
  return [
    ...new Set(
      words(situation)
        .filter((w) => !FRAMING.has(w))
        .map(stem),
    ),
  ];
}

export function situationApplies(situation: string, request: string): boolean {
  const terms = situationTerms(situation);
  if (terms.length === 0) return false;
  const present = new Set(words(request).map(stem));
  return terms.every((t) => present.has(t));
}

interface NamedMessage {
  role?: string;
  name?: string;
  content: string;
}

const SITUATION = /^Situation: (.*)$/m;

/**
 * The coaching examples among the messages, in order, and which messages they are: each
 * `example_user` with the `example_assistant` after it. A client or server that drops the
 * `name` field (many OpenAI-compatible ones ignore it) still leaves a system message that
 * starts with "Situation: " followed by another system message, which reads the same.
 */
export function coachingExamplesIn(messages: readonly NamedMessage[]): {
  examples: CoachingExample[];
  indexes: Set<number>;
} {
  const examples: CoachingExample[] = [];
  const indexes = new Set<number>();
  messages.forEach((m, i) => {
    const next = messages[i + 1];
    const user = m.name === 'example_user' || (m.name === undefined && m.role === 'system');
    const assistant =
      next?.name === 'example_assistant' || (next?.name === undefined && next?.role === 'system');
    const situation = SITUATION.exec(m.content)?.[1];
    if (!user || !assistant || !situation || indexes.has(i)) return;
    if (m.name === undefined && !m.content.startsWith('Situation: ')) return;
    examples.push({ situation: situation.trim(), behaviour: next.content });
    indexes.add(i).add(i + 1);
  });
  return { examples, indexes };
}

/** The step an example's assistant turn shows, with the reply it gives when it replies. */
export function coachedAction(scenario: Scenario, behaviour: string): { action: AgentAction; reply: string } {
  const call = /^Call (\S+) with (\{[\s\S]*\})\s*$/.exec(behaviour);
  if (call && scenario.actions.some((a) => a.name === call[1])) {
    let args: Record<string, unknown> = {};
    try {
      args = JSON.parse(call[2]!) as Record<string, unknown>;
    } catch {
      // A malformed example is followed without its arguments, as a model would.
    }
    return { action: { action: call[1]!, arguments: args }, reply: '' };
  }
  const transfer = /^Transfer to a human agent: ([\s\S]*)$/.exec(behaviour);
  const transferTool = scenario.actions.find((a) => a.name.includes('transfer'));
  if (transfer && transferTool)
    return { action: { action: transferTool.name, arguments: { summary: transfer[1]!.trim() } }, reply: '' };
  const ask = /^Ask for confirmation before acting: ([\s\S]*)$/.exec(behaviour);
  return { action: { action: 'respond', arguments: {} }, reply: (ask?.[1] ?? behaviour).trim() };
}

/** Tags that switch simulator behaviour (judge faults) rather than say what a request is about. */
const kindTags = (tags: readonly string[]) =>
  tags
    .filter((t) => !t.startsWith('judge-'))
    .sort()
    .join(',');

const listed = (items: readonly string[]) =>
  items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)!}`;

/** Most and fewest words a simulated situation names. */
const MAX_SITUATION_TERMS = 8;
const MIN_SITUATION_TERMS = 6;
/** Words a reviewer would not name in a situation: greetings, politeness, vague time and number words. */
const FILLER = new Set(
  (
    'hello hey please what can could tell here just yes way may one two three four five today yesterday ' +
    'ago later hour hours day days week weeks thanks thank also now new was were has have had did does case'
  ).split(' '),
);

/**
 * The teacher's answer to a `coaching_situation` request (coaching/situation-suggestion.ts):
 * the situation of the request between `<request>` tags, written as a careful reviewer would
 * scope it for this matcher. The request's kind is its scenario example's rule and tags; the
 * words every request of that kind shares (so no names, ids or one conversation's details;
 * tokens with digits or underscores never count) are the candidates, and the fewest of them
 * that no request of another kind contains are named (at least six, at most eight, rarest
 * first, greetings and filler left out), in the request's order: "When a customer asks about
 * reservation, basic, economy, move and flight". A request the scenario does not know is its
 * own kind, its capitalised words (names) left out.
 */
export function simulateSituation(scenario: Scenario, requestText: string): { situation: string } {
  const request = /<request>\n?([\s\S]*?)\n?<\/request>/.exec(requestText)?.[1]?.trim() ?? requestText;
  const example = [...scenario.examples]
    .sort((a, b) => b.request.length - a.request.length)
    .find((e) => request.includes(e.request));
  const kind = example && `${example.rule ?? ''}|${kindTags(example.tags)}`;
  const sameKind = (e: Scenario['examples'][number]) => `${e.rule ?? ''}|${kindTags(e.tags)}` === kind;
  const group = example ? scenario.examples.filter(sameKind) : [];
  const others = scenario.examples.filter((e) => !group.includes(e));
  const plain = (text: string) => text.replace(/\S*[\d_]\S*/g, ' ');
  const stems = (text: string) => new Set(words(plain(text)).map(stem));
  const groupStems = group.map((e) => stems(e.request));
  // Outside the scenario, capitalised words not starting a sentence are names.
  const names = example
    ? new Set<string>()
    : new Set(
        [...plain(request).matchAll(/(?<![.!?]\s*|^\s*)\b([A-Z][a-z]+)/g)].map((m) => m[1]!.toLowerCase()),
      );
  const candidates = [
    ...new Set(
      words(plain(request)).filter(
        (w) =>
          w.length >= 3 &&
          !FRAMING.has(w) &&
          !FILLER.has(w) &&
          !names.has(w) &&
          groupStems.every((s) => s.has(stem(w))),
      ),
    ),
  ];
  const spread = (w: string) => others.filter((e) => stems(e.request).has(stem(w))).length;
  const byRarity = [...candidates].sort((a, b) => spread(a) - spread(b));
  const picked: string[] = [];
  for (const w of byRarity) {
    if (picked.length >= MAX_SITUATION_TERMS) break;
    const enough =
      picked.length >= Math.min(MIN_SITUATION_TERMS, candidates.length) &&
      !others.some((e) => situationApplies(picked.join(' '), e.request));
    if (enough) break;
    picked.push(w);
  }
  const ordered = candidates.filter((w) => picked.includes(w));
  return {
    situation:
      ordered.length === 0
        ? 'When a customer writes without a clear request'
        : `When a customer asks about ${listed(ordered)}`,
  };
}

/**
 * The teacher's answer to a `contextual_instructions` request (coaching/instruction-migration.ts):
 * every sentence of the system prompt (between `<system_prompt>` tags) that states one of
 * the scenario's rules (holds one of its fixing phrases) is a contextual instruction. Its
 * situation is the one the simulated teacher writes for a request of that rule (as
 * simulateSituation does), and its step that rule's expected step on its first example:
 * the example's reply when it replies, else its tool call. Other sentences are general.
 */
export function simulateInstructionMigration(
  scenario: Scenario,
  requestText: string,
): { instructions: Record<string, string>[] } {
  const prompt = /<system_prompt>\n?([\s\S]*?)\n?<\/system_prompt>/.exec(requestText)?.[1] ?? '';
  const sentences = prompt
    .split('\n')
    .flatMap((line) => line.replace(/^\s*(?:[-*•]|\d+[.)])\s+/, '').split(/(?<=[.!?])\s+/))
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const instructions: Record<string, string>[] = [];
  for (const sentence of sentences) {
    const lower = sentence.toLowerCase();
    const rule = scenario.rules.find((r) => r.fixingPhrases.some((p) => lower.includes(p.toLowerCase())));
    const example = rule && scenario.examples.find((e) => e.rule === rule.id);
    if (!rule || !example || instructions.some((i) => i.instruction === sentence)) continue;
    const replies = example.expected.action === 'respond';
    instructions.push({
      instruction: sentence,
      situation: simulateSituation(scenario, example.request).situation,
      kind: replies ? 'reply' : 'tool_call',
      text: replies ? (example.reply ?? rule.description) : '',
      tool: replies ? '' : example.expected.action,
      arguments: replies ? '' : JSON.stringify(example.expected.arguments ?? {}),
    });
  }
  return { instructions };
}
