import { codeEvaluation, type Evaluation, type Finding } from '../schemas/evaluation.js';
import type { GoldActionDiffConfig } from '../schemas/code-evaluator-config.js';
import type { AgentAction, TraceRecord } from '../schemas/trace.js';
import { agentActions, type AgentStep } from './agent-trajectory.js';

export const GOLD_ACTION_DIFF = 'gold_action_diff';
export const EXPECTED_STEP_MATCH = 'expected_step_match';

/** The finding kinds of the gold diff, in the order that picks the category. */
export const GOLD_DIFF_KINDS = ['wrong_tool', 'wrong_arguments', 'missing_action', 'extra_action'] as const;
export type GoldDiffKind = (typeof GOLD_DIFF_KINDS)[number];

/** What the diff needs from the configuration (the parsed `GoldActionDiffConfig`). */
export type GoldDiffOptions = Pick<
  GoldActionDiffConfig,
  'readOnlyTools' | 'handoffTools' | 'flagExtraHandoffs' | 'unorderedListArguments'
>;

function escapeRegex(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/** A predicate for tool names matching any of the patterns (`*` matches any run of characters). */
export function toolMatcher(patterns: readonly string[]): (tool: string) => boolean {
  const res = patterns.map((p) => new RegExp(`^${p.split('*').map(escapeRegex).join('.*')}$`));
  return (tool) => res.some((re) => re.test(tool));
}

// ---------------------------------------------------------------------------------------
// Argument comparison
// ---------------------------------------------------------------------------------------

const NUMERIC = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/;

/**
 * Numbers and numeric strings compare as numbers (`250` = `"250"`); other strings ignore
 * case and surrounding or repeated whitespace, since models restate ids and names freely.
 */
function normalizeScalar(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (NUMERIC.test(value)) return Number(value);
  return value.trim().replace(/\s+/g, ' ').toLowerCase();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Whether each expected item can take a distinct actual item (bipartite matching, Kuhn). */
function sameMultiset(
  expected: readonly unknown[],
  actual: readonly unknown[],
  unordered: ReadonlySet<string>,
) {
  const owner = new Array<number>(actual.length).fill(-1);
  const tryAssign = (e: number, seen: boolean[]): boolean => {
    for (let a = 0; a < actual.length; a++) {
      if (seen[a] || !valuesMatch(expected[e], actual[a], unordered)) continue;
      seen[a] = true;
      if (owner[a] === -1 || tryAssign(owner[a]!, seen)) {
        owner[a] = e;
        return true;
      }
    }
    return false;
  };
  return expected.every((_, e) => tryAssign(e, new Array<boolean>(actual.length).fill(false)));
}

/**
 * Whether an actual value satisfies the expected one. Objects match when every key the
 * expectation names matches — keys the agent added are ignored, as `outcomeMatch` does
 * (tau-bench agents add `origin`/`destination` to flight legs and still pass). Lists match
 * item by item, or as multisets under a key listed in `unordered`; `null` and absent agree.
 */
export function valuesMatch(
  expected: unknown,
  actual: unknown,
  unordered: ReadonlySet<string>,
  key?: string,
): boolean {
  if (expected === null || expected === undefined || actual === null || actual === undefined) {
    return (expected ?? null) === (actual ?? null);
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return false;
    if (key !== undefined && unordered.has(key)) return sameMultiset(expected, actual, unordered);
    return expected.every((e, i) => valuesMatch(e, actual[i], unordered));
  }
  if (isRecord(expected)) {
    if (!isRecord(actual)) return false;
    return Object.entries(expected).every(([k, v]) => valuesMatch(v, actual[k], unordered, k));
  }
  return normalizeScalar(expected) === normalizeScalar(actual);
}

export interface ArgumentDifference {
  key: string;
  expected: unknown;
  actual: unknown;
}

/** The top-level argument keys whose values differ (keys only the agent sent are allowed). */
export function argumentDifferences(
  expected: Record<string, unknown>,
  actual: Record<string, unknown>,
  unordered: ReadonlySet<string>,
): ArgumentDifference[] {
  return Object.entries(expected)
    .filter(([key, value]) => !valuesMatch(value, actual[key], unordered, key))
    .map(([key, value]) => ({ key, expected: value, actual: actual[key] }));
}

function show(value: unknown, max = 160): string {
  if (value === undefined) return '(absent)';
  const text = JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function describeDifferences(differences: readonly ArgumentDifference[]): string {
  return differences.map((d) => `${d.key} expected ${show(d.expected)}, got ${show(d.actual)}`).join('; ');
}

// ---------------------------------------------------------------------------------------
// Whole-task diff
// ---------------------------------------------------------------------------------------

interface GoldItem {
  /** Position in `expectedActions`, so a finding can name the gold action. */
  goldIndex: number;
  action: AgentAction;
}

export interface GoldDiffResult {
  findings: Finding[];
  /** Gold state-changing actions the agent made with matching arguments. */
  matched: number;
  /** Gold state-changing actions (read-only ones are left out). */
  goldCount: number;
  /** Extra state-changing calls reported as findings. */
  extraCount: number;
}

/**
 * Best one-to-one pairing of the gold actions of one tool with the agent's calls of that
 * tool, maximising the summed weight; exact search over subsets of calls when there are at
 * most 12, greedy beyond. Ties go to the earlier call.
 */
function assign(goldCount: number, callCount: number, weight: (g: number, c: number) => number): number[] {
  const pairing = new Array<number>(goldCount).fill(-1);
  const w = Array.from({ length: goldCount }, (_, g) =>
    Array.from({ length: callCount }, (_, c) => weight(g, c)),
  );
  if (callCount > 12) {
    const pairs = [];
    for (let g = 0; g < goldCount; g++)
      for (let c = 0; c < callCount; c++) pairs.push({ g, c, w: w[g]![c]! });
    pairs.sort((a, b) => b.w - a.w || a.c - b.c || a.g - b.g);
    const used = new Set<number>();
    for (const p of pairs) {
      if (pairing[p.g] !== -1 || used.has(p.c)) continue;
      pairing[p.g] = p.c;
      used.add(p.c);
    }
    return pairing;
  }
  const states = 1 << callCount;
  // best[g * states + mask]: the largest weight the golds from g on can add with `mask` taken.
  const best = new Float64Array((goldCount + 1) * states);
  const choice = new Int8Array(goldCount * states).fill(-1);
  for (let g = goldCount - 1; g >= 0; g--) {
    for (let mask = 0; mask < states; mask++) {
      let top = best[(g + 1) * states + mask]!;
      let pick = -1;
      for (let c = 0; c < callCount; c++) {
        if (mask & (1 << c)) continue;
        const total = w[g]![c]! + best[(g + 1) * states + (mask | (1 << c))]!;
        if (total > top) {
          top = total;
          pick = c;
        }
      }
      best[g * states + mask] = top;
      choice[g * states + mask] = pick;
    }
  }
  let mask = 0;
  for (let g = 0; g < goldCount; g++) {
    const c = choice[g * states + mask]!;
    pairing[g] = c;
    if (c >= 0) mask |= 1 << c;
  }
  return pairing;
}

function describeAction(action: { action: string; arguments: Record<string, unknown> }): string {
  return `${action.action} ${show(action.arguments, 200)}`;
}

/**
 * Diffs the agent's calls against the gold action list of a task.
 *
 * Only state-changing actions take part: read-only tools are left out on both sides, and a
 * handoff tool is compared by name alone (its argument is a free-text summary). Pairing
 * is an assignment per tool, not an order-preserving alignment, because the order of a
 * gold list is one correct order among several (tau-bench scores the final database, and
 * a passing agent may change the passengers before the flights). Each gold action takes
 * the call of its tool that fits best — a call that succeeded before one that failed, then
 * the most matching argument keys, then the earlier call. Then:
 * - a pair whose arguments differ is `wrong_arguments` (naming each key and both values);
 * - a pair whose only call failed with the gold arguments leaves the action `missing_action`;
 * - an unpaired gold action is `wrong_tool` when an unpaired successful call of another
 *   state-changing tool sits where it should have been (between the calls paired with its
 *   gold neighbours), else `missing_action`;
 * - a successful state-changing call left over is `extra_action` (an unasked-for handoff
 *   only when `flagExtraHandoffs`). Failed calls changed nothing and are never extra.
 */
export function diffGoldActions(
  gold: readonly AgentAction[],
  steps: readonly AgentStep[],
  options: GoldDiffOptions,
): GoldDiffResult {
  const isReadOnly = toolMatcher(options.readOnlyTools);
  const isHandoff = toolMatcher(options.handoffTools);
  const unordered = new Set(options.unorderedListArguments);
  const changes = (tool: string) => tool !== 'respond' && (isHandoff(tool) || !isReadOnly(tool));

  const golds: GoldItem[] = gold
    .map((action, goldIndex) => ({ goldIndex, action }))
    .filter((g) => changes(g.action.action));
  const calls = steps.filter((s) => changes(s.action));

  const differences = (g: GoldItem, call: AgentStep) =>
    isHandoff(g.action.action) ? [] : argumentDifferences(g.action.arguments, call.arguments, unordered);
  const similarity = (g: GoldItem, call: AgentStep) => {
    const keys = Object.keys(g.action.arguments).length;
    return keys === 0 ? 1 : 1 - differences(g, call).length / keys;
  };

  // pairedCall[i]: index in `calls` of the call paired with golds[i], or -1.
  const pairedCall = new Array<number>(golds.length).fill(-1);
  for (const tool of new Set(golds.map((g) => g.action.action))) {
    const goldIdx = golds.flatMap((g, i) => (g.action.action === tool ? [i] : []));
    const callIdx = calls.flatMap((c, i) => (c.action === tool ? [i] : []));
    const pairing = assign(goldIdx.length, callIdx.length, (g, c) => {
      const call = calls[callIdx[c]!]!;
      // Success outweighs any argument agreement: the call that took effect is the one to judge.
      return 1 + similarity(golds[goldIdx[g]!]!, call) + (call.error === undefined ? 2 : 0);
    });
    pairing.forEach((c, g) => {
      if (c >= 0) pairedCall[goldIdx[g]!] = callIdx[c]!;
    });
  }

  const findings: Finding[] = [];
  let matched = 0;
  const used = new Set(pairedCall.filter((c) => c >= 0));
  golds.forEach((g, i) => {
    const c = pairedCall[i]!;
    if (c < 0) return;
    const call = calls[c]!;
    const diff = differences(g, call);
    const at = { step: call.step, ...(call.spanId ? { spanId: call.spanId } : {}) };
    const failed = call.error !== undefined ? ` (the call failed: ${show(call.error, 120)})` : '';
    if (diff.length > 0) {
      findings.push({
        kind: 'wrong_arguments',
        ...at,
        detail: `gold action #${g.goldIndex} ${g.action.action}: ${describeDifferences(diff)}${failed}`,
      });
    } else if (call.error !== undefined) {
      findings.push({
        kind: 'missing_action',
        ...at,
        detail: `gold action #${g.goldIndex} ${describeAction(g.action)} was attempted with the gold arguments but never took effect${failed}`,
      });
    } else {
      matched++;
    }
  });

  // Unpaired gold actions: look for a different state-changing call in the same place.
  const slotOf = (i: number) => {
    let lo = -1;
    let hi = Number.POSITIVE_INFINITY;
    golds.forEach((_, j) => {
      const c = pairedCall[j]!;
      if (c < 0) return;
      if (j < i) lo = Math.max(lo, calls[c]!.step);
      if (j > i) hi = Math.min(hi, calls[c]!.step);
    });
    return lo <= hi ? { lo, hi } : { lo: hi, hi: lo };
  };
  const spare = (c: number) => !used.has(c) && calls[c]!.error === undefined;
  golds.forEach((g, i) => {
    if (pairedCall[i]! >= 0) return;
    const { lo, hi } = slotOf(i);
    const c = calls.findIndex((call, k) => spare(k) && call.step > lo && call.step < hi);
    if (c >= 0) {
      used.add(c);
      const call = calls[c]!;
      findings.push({
        kind: 'wrong_tool',
        step: call.step,
        ...(call.spanId ? { spanId: call.spanId } : {}),
        detail: `gold action #${g.goldIndex} is ${describeAction(g.action)}; the agent called ${describeAction(call)} instead`,
      });
    } else {
      findings.push({
        kind: 'missing_action',
        step: null,
        detail: `gold action #${g.goldIndex} ${describeAction(g.action)} was never made`,
      });
    }
  });

  let extraCount = 0;
  calls.forEach((call, c) => {
    if (!spare(c) || (isHandoff(call.action) && !options.flagExtraHandoffs)) return;
    extraCount++;
    findings.push({
      kind: 'extra_action',
      step: call.step,
      ...(call.spanId ? { spanId: call.spanId } : {}),
      detail: `${describeAction(call)} changes state but is not in the gold actions`,
    });
  });

  findings.sort((a, b) => (a.step ?? Number.POSITIVE_INFINITY) - (b.step ?? Number.POSITIVE_INFINITY));
  return { findings, matched, goldCount: golds.length, extraCount };
}

function primaryKind(findings: readonly Finding[]): string | null {
  return GOLD_DIFF_KINDS.find((k) => findings.some((f) => f.kind === k)) ?? null;
}

function countKinds(findings: readonly Finding[]): string {
  return GOLD_DIFF_KINDS.flatMap((k) => {
    const n = findings.filter((f) => f.kind === k).length;
    return n > 0 ? [`${n} ${k}`] : [];
  }).join(', ');
}

/**
 * The gold-action diff of a whole task (`expectedActions`, e.g. tau-bench), or null when the
 * trace has no gold action list. Dimension `task_completion`: the gold list is what
 * completing the task takes. Score = exactly matched gold actions / (gold actions + extra
 * calls), 1 when the gold expects no change and none was made; `pass` only without findings.
 */
export function goldActionDiff(trace: TraceRecord, options: GoldDiffOptions): Evaluation | null {
  if (trace.expectedActions === undefined) return null;
  const result = diffGoldActions(trace.expectedActions, agentActions(trace), options);
  const { findings, matched, goldCount, extraCount } = result;
  const denominator = goldCount + extraCount;
  const summary =
    goldCount === 0
      ? 'the gold expects no state change'
      : `${matched} of ${goldCount} gold state-changing actions matched exactly`;
  return codeEvaluation({
    evaluator: GOLD_ACTION_DIFF,
    dimension: 'task_completion',
    score: denominator === 0 ? 1 : matched / denominator,
    label: findings.length === 0 ? 'pass' : 'fail',
    explanation:
      findings.length === 0
        ? `${summary}${goldCount === 0 ? ' and the agent made none' : ', nothing extra'} (read-only calls ignored)`
        : `${summary}; ${countKinds(findings)} (read-only calls ignored)`,
    category: primaryKind(findings),
    findings,
  });
}

// ---------------------------------------------------------------------------------------
// Single step
// ---------------------------------------------------------------------------------------

/**
 * One expected step against the step taken, with the argument comparison of the whole-task
 * diff. Two text replies match whatever they say: wording is for judges and assertions.
 */
export function compareStep(
  expected: AgentAction,
  actual: AgentAction,
  options: Pick<GoldDiffOptions, 'handoffTools' | 'unorderedListArguments'>,
): { kind: 'wrong_tool' | 'wrong_arguments'; detail: string } | null {
  if (expected.action !== actual.action) {
    return {
      kind: 'wrong_tool',
      detail: `expected ${describeAction(expected)}, the agent did ${describeAction(actual)}`,
    };
  }
  if (expected.action === 'respond' || toolMatcher(options.handoffTools)(expected.action)) return null;
  const diff = argumentDifferences(
    expected.arguments,
    actual.arguments,
    new Set(options.unorderedListArguments),
  );
  return diff.length === 0
    ? null
    : { kind: 'wrong_arguments', detail: `${expected.action}: ${describeDifferences(diff)}` };
}

/**
 * The single-step variant: the trace's output against its `expected` next step, or null
 * when the trace has none. Dimension `task_completion`: a trace that records one decision is
 * complete when that decision is the expected one — the same question the judge's
 * task-completion rubric asks, so the cascade can skip the judge there.
 */
export function expectedStepMatch(trace: TraceRecord, options: GoldDiffOptions): Evaluation | null {
  if (trace.expected === undefined) return null;
  const problem = compareStep(trace.expected, trace.output, options);
  const steps = agentActions(trace);
  const final = steps.findLast((s) => s.action === trace.output.action);
  const findings: Finding[] = problem
    ? [{ ...problem, step: final?.step ?? null, ...(final?.spanId ? { spanId: final.spanId } : {}) }]
    : [];
  return codeEvaluation({
    evaluator: EXPECTED_STEP_MATCH,
    dimension: 'task_completion',
    score: problem ? 0 : 1,
    label: problem ? 'fail' : 'pass',
    explanation: problem ? problem.detail : `matched the expected ${trace.expected.action}`,
    category: problem?.kind ?? null,
    findings,
  });
}
