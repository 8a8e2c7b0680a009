import { stableHash53, unitInterval } from '../../optimizers/stable-hash.js';
import type { AgentAction } from '../../schemas/trace.js';
import type { Scenario } from './scenario.js';
import { simulateLabelSuggestion } from './simulated-labels.js';
import { between } from './tagged-text.js';
import {
  coachedAction,
  simulateInstructionMigration,
  simulateSituation,
  situationApplies,
  type CoachingExample,
} from './simulated-coaching.js';

/**
 * The simulated agent, judge, teacher and embedder. Each is a pure function of the
 * scenario, the request and a seed, so the same request always gets the same answer.
 */

const lower = (s: string) => s.toLowerCase();
const contains = (text: string, phrase: string) => lower(text).includes(lower(phrase));

export function findExample(scenario: Scenario, text: string) {
  // Longest request first so one request that prefixes another cannot shadow it.
  return [...scenario.examples]
    .sort((a, b) => b.request.length - a.request.length)
    .find((e) => text.includes(e.request));
}

export interface AgentDecision {
  action: AgentAction;
  reply: string;
  correct: boolean;
}

export function simulateAgent(
  scenario: Scenario,
  systemPrompt: string,
  userText: string,
  seed: number,
  toolText = '',
  coaching: readonly CoachingExample[] = [],
): AgentDecision {
  const example = findExample(scenario, userText);
  // A coaching example whose situation the request falls in is followed (the first such);
  // it is correct when it shows the step the request needs.
  const followed = coaching.find((c) => situationApplies(c.situation, userText));
  if (followed) {
    const { action, reply } = coachedAction(scenario, followed.behaviour);
    const expected = example?.expected ?? { action: 'respond', arguments: {} };
    return { action, reply, correct: action.action === expected.action };
  }
  if (!example) {
    return {
      action: { action: 'respond', arguments: {} },
      reply: 'I can help with bookings, changes, cancellations and baggage. What would you like to do?',
      correct: true,
    };
  }
  const rule = scenario.rules.find((r) => r.id === example.rule);
  const readable = `${systemPrompt}\n${toolText}`;
  let correct = rule === undefined || rule.fixingPhrases.some((p) => contains(readable, p));
  let action = correct ? example.expected : example.wrong;
  for (const ob of scenario.overBroad) {
    if (!contains(systemPrompt, ob.phrase)) continue;
    if (example.rule !== null && ob.fixes.includes(example.rule)) {
      correct = true;
      action = example.expected;
    }
    if (example.tags.some((t) => ob.breaks.tags.includes(t))) {
      correct = false;
      action = ob.breaks.action;
    }
  }
  const u = unitInterval(`agent|${systemPrompt}|${userText}|${seed}`, scenario.seed);
  if (u < scenario.noise.agent) {
    const others = scenario.actions.filter((a) => a.name !== action.action);
    const pick =
      others[Math.floor(unitInterval(`agent-noise|${userText}|${seed}`, scenario.seed) * others.length)];
    if (pick) {
      action = { action: pick.name, arguments: {} };
      correct = false;
    }
  }
  return { action, reply: action.action === 'respond' ? example.reply : '', correct };
}

export interface TeacherCandidate {
  prompt: string;
  rationale: string;
}

/**
 * Proposes `count` rewrites of the prompt between <current_prompt> tags. For each failure
 * mode whose symptoms appear in the failure report, a rewrite adds the right fixing phrase
 * with probability `precision`, else an over-broad phrase or an irrelevant one.
 */
export function simulateTeacher(
  scenario: Scenario,
  requestText: string,
  count: number,
  seed: number,
  salt = '',
): TeacherCandidate[] {
  const match = /<current_prompt>\n?([\s\S]*?)\n?<\/current_prompt>/.exec(requestText);
  return rewritesOf(
    scenario,
    match?.[1] ?? scenario.basePrompt,
    requestText.replace(match?.[0] ?? '', ''),
    count,
    seed,
    salt,
  );
}

/**
 * The rewrite model behind every teacher answer that returns whole prompts: `current` is
 * the prompt to improve, `report` the rest of the request, where symptoms are looked for.
 */
function rewritesOf(
  scenario: Scenario,
  current: string,
  report: string,
  count: number,
  seed: number,
  salt: string,
): TeacherCandidate[] {
  const detected = scenario.rules.filter((r) => r.symptoms.some((s) => contains(report, s)));
  const candidates: TeacherCandidate[] = [];
  for (let i = 0; i < count; i++) {
    const additions: string[] = [];
    const notes: string[] = [];
    for (const rule of detected) {
      if (rule.fixingPhrases.some((p) => contains(current, p))) continue;
      const u = unitInterval(`teacher|${current}|${rule.id}|${i}|${seed}${salt}`, scenario.seed);
      const overBroad = scenario.overBroad.find((ob) => ob.fixes.includes(rule.id));
      if (u < scenario.teacher.precision) {
        const phrase =
          rule.fixingPhrases[Math.floor((u / scenario.teacher.precision) * rule.fixingPhrases.length)]!;
        additions.push(`${phrase[0]!.toUpperCase()}${phrase.slice(1)}.`);
        notes.push(`address ${rule.category} failures`);
      } else if (overBroad && u < scenario.teacher.precision + (1 - scenario.teacher.precision) / 2) {
        additions.push(overBroad.phrase);
        notes.push('add a general safety rule');
      } else {
        const d = scenario.distractors[Math.floor(u * 997) % scenario.distractors.length]!;
        additions.push(d);
        notes.push('clarify tone');
      }
    }
    if (additions.length === 0) additions.push(scenario.distractors[i % scenario.distractors.length]!);
    candidates.push({
      prompt: `${current.trimEnd()}\n\n${additions.join('\n')}`,
      rationale: notes.join('; ') || 'general polish',
    });
  }
  return candidates;
}

/**
 * A reflection request in free text, as gepa's default proposer sends it (no
 * `response_format`): the instruction to improve is the first ``` fenced block, and the new
 * instruction is expected inside ``` fences. Answered with the rewrite model of the
 * `reflected_instruction` schema (same symptoms, same precision, same salt from the whole
 * request), so a reference optimizer talking free text gets exactly the teacher ours gets.
 * Null when the request has no fenced block, so other free-text requests keep their answer.
 */
export function simulateFreeTextReflection(
  scenario: Scenario,
  requestText: string,
  seed: number,
): string | null {
  const fence = /```[^\n]*\n([\s\S]*?)\n?```/.exec(requestText);
  if (!fence) return null;
  const salt = `|${stableHash53(requestText)}`;
  const report = requestText.replace(fence[0], '');
  const [rewrite] = rewritesOf(scenario, fence[1]!, report, 1, seed, salt);
  // A newline after the opening fence: readers treat a word right after it as a language tag.
  return `Here is the improved instruction:\n\n\`\`\`\n${rewrite!.prompt}\n\`\`\``;
}

/** Hashed bag-of-words embedding, L2-normalised: similar texts get similar vectors. */
export function simulateEmbedding(text: string, dims = 256): number[] {
  const v = new Array<number>(dims).fill(0);
  for (const token of lower(text).match(/[a-z0-9]+/g) ?? []) {
    const u = unitInterval(token, 11);
    v[Math.floor(u * dims)]! += unitInterval(token, 13) < 0.5 ? -1 : 1;
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

const capitalized = (phrase: string) => `${phrase[0]!.toUpperCase()}${phrase.slice(1)}.`;

/** Rules whose symptoms appear in `text` and that `prompt` does not fix yet. */
function unfixedRulesIn(scenario: Scenario, text: string, prompt: string) {
  return scenario.rules.filter(
    (r) => r.symptoms.some((s) => contains(text, s)) && !r.fixingPhrases.some((p) => contains(prompt, p)),
  );
}

/**
 * The optimizer meta-prompts (llm/prompt-templates.ts), answered by the structured-output
 * schema name they ask for. Variation comes from the whole request text, so the same
 * parent shown different examples can get a different answer, as with a real model.
 */
export function simulateTeacherTask(
  scenario: Scenario,
  schemaName: string,
  requestText: string,
  seed: number,
): Record<string, unknown> {
  const salt = `|${stableHash53(requestText)}`;
  const count = Math.min(Math.max(Number(/exactly (\d+)/i.exec(requestText)?.[1] ?? 1), 1), 32);
  const current = between(requestText, 'current_prompt') ?? scenario.basePrompt;
  const rest = requestText.replace(current, '');
  const u = (key: string) => unitInterval(`${key}${salt}|${seed}`, scenario.seed);
  switch (schemaName) {
    case 'critiques': {
      const rules = unfixedRulesIn(scenario, rest, current);
      // Like a model summarising the shown errors: each reason names every missing rule it
      // noticed (each noticed with the teacher's precision), or is generic when it noticed none.
      const reasons = Array.from({ length: count }, (_, i) => {
        const noticed = rules.filter((rule) => u(`critique|${rule.id}|${i}`) < scenario.teacher.precision);
        if (noticed.length === 0) return 'The prompt should ask the agent to be more careful and thorough.';
        return noticed
          .map(
            (rule) =>
              `The prompt says nothing about requests involving ${rule.symptoms[0]}: ${rule.description}`,
          )
          .join(' ');
      });
      return { reasons };
    }
    case 'prompt_edits': {
      const critique = between(requestText, 'critique') ?? '';
      const rules = unfixedRulesIn(scenario, critique, current);
      const prompts = Array.from({ length: count }, (_, i) => {
        const additions = rules.map((rule) => {
          const v = u(`edit|${rule.id}|${i}`);
          const overBroad = scenario.overBroad.find((ob) => ob.fixes.includes(rule.id));
          if (v < 0.85) return capitalized(rule.fixingPhrases[i % rule.fixingPhrases.length]!);
          return overBroad ? overBroad.phrase : scenario.distractors[i % scenario.distractors.length]!;
        });
        if (additions.length === 0)
          additions.push(scenario.distractors[(i + 1) % scenario.distractors.length]!);
        return `${current.trimEnd()}\n${additions.join('\n')}`;
      });
      return { prompts };
    }
    case 'dataset_observations': {
      // MIPRO's dataset summary: the prior observations carry over; each rule whose symptom
      // this batch shows (requests, expected steps, reviewer notes) is noticed with the
      // teacher's precision and written as one line naming the symptom, which the proposer
      // reading the summary then recognises as it would in examples.
      const prior = between(requestText, 'prior_observations') ?? '';
      const batch = requestText.replace(prior, '');
      const lines = prior.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('No pattern'));
      for (const rule of scenario.rules) {
        const symptom = rule.symptoms.find((s) => contains(batch, s));
        if (!symptom || rule.symptoms.some((s) => lines.some((l) => contains(l, s)))) continue;
        if (u(`observe|${rule.id}`) < scenario.teacher.precision)
          lines.push(`Requests about "${symptom}" need care (${rule.category}).`);
      }
      return { observations: lines.length ? lines.join('\n') : 'No pattern beyond routine requests yet.' };
    }
    case 'paraphrases': {
      const text = between(requestText, 'text') ?? '';
      const prompts = Array.from({ length: count }, (_, i) => paraphrase(scenario, text, u(`para|${i}`), i));
      return { prompts };
    }
    case 'coaching_situation':
      return simulateSituation(scenario, requestText);
    case 'label_suggestion':
      return simulateLabelSuggestion(scenario, requestText);
    case 'contextual_instructions':
      return simulateInstructionMigration(scenario, requestText);
    case 'reflected_instruction': {
      // Rewrites the request lists as already tried (GEPA's reflection) are avoided as a model
      // told so would: the answer it would have given, else its next samples (up to 3 more).
      const tried = [...requestText.matchAll(TRIED)].map((m) => m[1]!.trim());
      if (tried.length === 0)
        return { instruction: simulateTeacher(scenario, requestText, 1, seed, salt)[0]!.prompt };
      const asked = requestText.replace(TRIED_SECTION, '');
      const samples = simulateTeacher(scenario, asked, 4, seed, `|${stableHash53(asked)}`);
      return { instruction: (samples.find((s) => !tried.includes(s.prompt.trim())) ?? samples[0]!).prompt };
    }
    case 'proposed_instruction': {
      let instruction = simulateTeacher(scenario, requestText, 1, seed, salt)[0]!.prompt;
      if (/Tip: Don't be afraid to be creative/.test(requestText)) {
        instruction += `\n${scenario.distractors[Math.floor(u('creative') * scenario.distractors.length)]!}`;
      }
      return { instruction };
    }
    default: {
      const candidates = simulateTeacher(scenario, requestText, count, seed);
      return { candidates };
    }
  }
}

/** A rewrite listed as already tried, and the paragraph that lists them (the request's end). */
const TRIED = /<tried_instruction>\n?([\s\S]*?)\n?<\/tried_instruction>/g;
const TRIED_SECTION = /\n\n[^\n]*\n(?:<tried_instruction>[\s\S]*?<\/tried_instruction>\n?)+$/;

/** Rewordings keep every line, in another order; some drop a line or add filler, as real paraphrases do. */
function paraphrase(scenario: Scenario, text: string, v: number, i: number): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length > 2 && v < 0.15) {
    const drop = 1 + Math.floor((v / 0.15) * (lines.length - 1));
    return lines.filter((_, k) => k !== drop).join('\n');
  }
  if (v < 0.3) return `${lines.join('\n')}\n${scenario.distractors[i % scenario.distractors.length]!}`;
  const [head, ...tail] = lines;
  const rotated =
    tail.length > 1 ? [...tail.slice((i + 1) % tail.length), ...tail.slice(0, (i + 1) % tail.length)] : tail;
  const reworded = (head ?? '')
    .replace('Use the tools available to you', 'Use your tools')
    .replace(' and be accurate and polite', ', accurately and politely');
  return [
    reworded === head && rotated.join() === tail.join() ? `${head} Be precise.` : reworded,
    ...rotated,
  ].join('\n');
}
