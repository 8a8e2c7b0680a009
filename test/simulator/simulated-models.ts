import { unitInterval } from '../../core/stable-hash.js';
import type { AgentAction } from '../../schemas/trace.js';
import type { Scenario } from './scenario.js';

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
): AgentDecision {
  const example = findExample(scenario, userText);
  if (!example) {
    return {
      action: { action: 'respond', arguments: {} },
      reply: 'I can help with bookings, changes, cancellations and baggage. What would you like to do?',
      correct: true,
    };
  }
  const rule = scenario.rules.find((r) => r.id === example.rule);
  let correct = rule === undefined || rule.fixingPhrases.some((p) => contains(systemPrompt, p));
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

export interface JudgeAnswer {
  verdict: 'pass' | 'fail';
  failure_category: string | null;
  rationale: string;
}

/** Reads the conversation and the agent's step from the judge request, as a judge would. */
export function simulateJudge(scenario: Scenario, requestText: string, seed: number): JudgeAnswer {
  const example = findExample(scenario, requestText);
  const acted = /action:\s*([A-Za-z0-9_]+)/.exec(requestText)?.[1];
  if (!example || !acted) {
    return {
      verdict: 'pass',
      failure_category: null,
      rationale: 'Nothing in the step contradicts the policy.',
    };
  }
  let pass = acted === example.expected.action;
  const flip = unitInterval(`judge|${requestText}|${seed}`, scenario.seed) < scenario.noise.judge;
  if (flip) pass = !pass;
  if (pass)
    return { verdict: 'pass', failure_category: null, rationale: `The agent correctly chose ${acted}.` };
  const rule = scenario.rules.find((r) => r.id === example.rule);
  const broken = scenario.overBroad.find(
    (ob) => ob.breaks.action.action === acted && example.tags.some((t) => ob.breaks.tags.includes(t)),
  );
  return {
    verdict: 'fail',
    failure_category: rule?.category ?? (broken ? 'escalation' : 'other'),
    rationale: rule
      ? `${rule.judgeRationale} The agent called ${acted} instead of ${example.expected.action}.`
      : `The agent called ${acted} although the request needed ${example.expected.action}.`,
  };
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
): TeacherCandidate[] {
  const match = /<current_prompt>\n?([\s\S]*?)\n?<\/current_prompt>/.exec(requestText);
  const current = match?.[1] ?? scenario.basePrompt;
  const report = requestText.replace(match?.[0] ?? '', '');
  const detected = scenario.rules.filter((r) => r.symptoms.some((s) => contains(report, s)));
  const candidates: TeacherCandidate[] = [];
  for (let i = 0; i < count; i++) {
    const additions: string[] = [];
    const notes: string[] = [];
    for (const rule of detected) {
      if (rule.fixingPhrases.some((p) => contains(current, p))) continue;
      const u = unitInterval(`teacher|${current}|${rule.id}|${i}|${seed}`, scenario.seed);
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
