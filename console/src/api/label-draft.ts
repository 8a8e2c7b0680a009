import { CATEGORIES } from './categories.js';
import { argumentLines, parseArgumentLines } from './sampled-trace.js';
import type { Category, LabelBody, LabelSuggestion, OwnLabel } from './types.js';

/** What the reviewer has entered so far; turned into the label body on submit. */
export interface LabelDraft {
  verdict: 'pass' | 'fail' | null;
  category: Category | '';
  expected: 'none' | 'reply' | 'tool';
  reply: string;
  tool: string;
  toolArguments: string;
  /**
   * The agent's own call the expected one started from (tool and its arguments as lines);
   * while the arguments are still those, choosing another tool clears them, so a reviewer's
   * lines are not appended to arguments the new tool does not take.
   */
  prefilled?: { tool: string; toolArguments: string };
  comment: string;
  /** Per score config name, typed as the API takes it; '' while unset. */
  scores: Record<string, string | number | boolean>;
  /** Per judge dimension (tool_selection, …), besides the overall verdict; '' while unset. */
  dimensions: Record<string, 'pass' | 'fail' | ''>;
  /** Slices of a label being changed (the form has no field for them): kept as they were. */
  slices?: string[];
}

export const emptyDraft = (): LabelDraft => ({
  verdict: null,
  category: '',
  expected: 'none',
  reply: '',
  tool: '',
  toolArguments: '',
  comment: '',
  scores: {},
  dimensions: {},
});

/**
 * The draft an item's form starts from: the failure category the judge (or code check) gave,
 * when it is one a label can carry, so a reviewer who agrees need not pick it again. It is
 * sent only with a fail verdict.
 */
export function draftFor(judgeCategory: string | null | undefined): LabelDraft {
  const category = CATEGORIES.find((c) => c === judgeCategory);
  return { ...emptyDraft(), ...(category ? { category } : {}) };
}

/** The draft of a reviewer changing the label they stored: every field as they left it. */
export function draftFromLabel(label: OwnLabel): LabelDraft {
  const step = label.expected;
  const reply = step?.action === 'respond';
  return {
    ...emptyDraft(),
    verdict: label.verdict,
    category: CATEGORIES.find((c) => c === label.category) ?? '',
    expected: !step ? 'none' : reply ? 'reply' : 'tool',
    reply: reply ? (step.content ?? '') : '',
    tool: step && !reply ? step.action : '',
    toolArguments: step && !reply ? argumentLines(step.arguments) : '',
    comment: label.comment ?? '',
    scores: { ...label.scores },
    dimensions: { ...label.dimensions },
    ...(label.slices.length > 0 ? { slices: [...label.slices] } : {}),
  };
}

/**
 * The draft with the teacher's suggested label taken: verdict, category and step as
 * suggested; what else the reviewer entered (comment, scores, dimensions) stays.
 */
export function draftWithSuggestion(draft: LabelDraft, suggestion: LabelSuggestion): LabelDraft {
  const step = suggestion.expected;
  const reply = step?.action === 'respond';
  const { prefilled: _agentsCall, ...rest } = draft;
  return {
    ...rest,
    verdict: suggestion.verdict,
    category:
      CATEGORIES.find((c) => c === suggestion.category) ??
      (suggestion.verdict === 'fail' ? draft.category : ''),
    expected: !step ? 'none' : reply ? 'reply' : 'tool',
    reply: reply ? (step.content ?? '') : '',
    tool: step && !reply ? step.action : '',
    toolArguments: step && !reply ? argumentLines(step.arguments) : '',
    // As with the agent's own call: choosing another tool clears arguments still as suggested.
    ...(step && !reply
      ? { prefilled: { tool: step.action, toolArguments: argumentLines(step.arguments) } }
      : {}),
  };
}

/** What stops a draft from being sent, at the field that has to change. */
export interface DraftProblem {
  field: 'verdict' | 'expected.content' | 'expected.action' | 'expected.arguments';
  message: string;
}

/** The first thing to fix before the draft can be sent, or null when it can be. */
export function draftProblem(draft: LabelDraft): DraftProblem | null {
  if (!draft.verdict) return { field: 'verdict', message: 'Choose a verdict first: Pass (p) or Fail (f).' };
  if (draft.verdict !== 'fail') return null;
  if (draft.expected === 'reply' && draft.reply.trim() === '')
    return { field: 'expected.content', message: 'Write the corrected reply, or choose "Don\'t say".' };
  if (draft.expected === 'tool') {
    if (draft.tool.trim() === '')
      return { field: 'expected.action', message: 'Name the tool the agent should have called.' };
    const parsed = parseArgumentLines(draft.toolArguments);
    if (parsed.error) return { field: 'expected.arguments', message: `Tool arguments: ${parsed.error}` };
  }
  return null;
}

/** The label body for POST /api/items/{id}/annotations, or what to fix first. */
export function labelBody(draft: LabelDraft): LabelBody | string {
  const problem = draftProblem(draft);
  // A missing verdict is a problem already; the second test narrows the type.
  if (problem || !draft.verdict) return problem?.message ?? '';
  const body: LabelBody = { verdict: draft.verdict };
  if (draft.verdict === 'fail') {
    if (draft.category) body.category = draft.category;
    if (draft.expected === 'reply')
      body.expected = { action: 'respond', arguments: {}, content: draft.reply };
    if (draft.expected === 'tool')
      body.expected = { action: draft.tool.trim(), arguments: parseArgumentLines(draft.toolArguments).args };
  }
  if (draft.comment.trim() !== '') body.comment = draft.comment;
  const scores = Object.fromEntries(Object.entries(draft.scores).filter(([, v]) => v !== ''));
  if (Object.keys(scores).length > 0) body.scores = scores;
  const dimensions = Object.fromEntries(
    Object.entries(draft.dimensions).filter((entry): entry is [string, 'pass' | 'fail'] => entry[1] !== ''),
  );
  if (Object.keys(dimensions).length > 0) body.dimensions = dimensions;
  if (draft.slices && draft.slices.length > 0) body.slices = draft.slices;
  return body;
}

/** The draft after the reviewer names `tool`: arguments still prefilled from another tool are cleared. */
export function withTool(draft: LabelDraft, tool: string): Partial<LabelDraft> {
  const untouched = draft.prefilled !== undefined && draft.toolArguments === draft.prefilled.toolArguments;
  if (untouched && tool.trim() !== draft.prefilled!.tool) return { tool, toolArguments: '' };
  return { tool };
}

/** Whether the arguments shown are still the agent's own, unchanged. */
export const argumentsPrefilled = (draft: LabelDraft) =>
  draft.prefilled !== undefined &&
  draft.toolArguments !== '' &&
  draft.toolArguments === draft.prefilled.toolArguments &&
  draft.tool.trim() === draft.prefilled.tool;
