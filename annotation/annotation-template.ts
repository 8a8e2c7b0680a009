import { displayedCategory, FAILURE_CATEGORIES } from '../schemas/failure-category.js';
import type { LabelSuggestion } from './label-suggestion.js';

/** What the template needs of a queue item (a row of `queueItems`). */
export interface TemplateItem {
  id: string;
  status: string;
  judge_label: string;
  judge_category: string | null;
  judge_explanation: string | null;
  failing_step: number | null;
  failing_finding: string | null;
  input: unknown;
  output: unknown;
}

/**
 * The batch file `queue show --template` writes and `annotate --file` reads: one label per
 * open item, prefilled with the judge's verdict and category, so that a reviewer who agrees
 * with everything submits it unchanged. Every value it writes is one the annotation schema
 * accepts: verdicts are `pass` or `fail`, categories come from the one list (a finer name
 * such as `wrong_tool` is written as the category it maps to), `comment` and `slices` are
 * empty until the reviewer fills them. `context` is for reading and is ignored on submit;
 * `allowed` lists the values each field takes.
 */
export function annotationTemplate(queueId: string, reviewer: string, items: readonly TemplateItem[]) {
  return {
    queue: queueId,
    reviewer,
    allowed: {
      verdict: ['pass', 'fail'],
      category: [...FAILURE_CATEGORIES],
      slices: 'any names, e.g. ["adversarial"]: the dataset example of the item carries them',
      // A failure teaches the optimizer only through an expected step (the trace's own, or
      // one the reviewer adds), so the file says how to write one.
      expected:
        'on a fail, the step the agent should have taken: {"action": "<tool name>", "arguments": {…}} or {"action": "respond", "content": "<the reply>"}; leave it out when unsure',
    },
    labels: items
      .filter((i) => i.status !== 'complete')
      .map((i) => {
        const category = displayedCategory(i.judge_category);
        return {
          itemId: i.id,
          verdict: i.judge_label === 'pass' ? ('pass' as const) : ('fail' as const),
          ...(category ? { category } : {}),
          comment: '',
          slices: [] as string[],
          context: {
            judge: i.judge_explanation,
            failingStep: i.failing_step,
            finding: i.failing_finding,
            input: i.input,
            agentStep: i.output,
          },
        };
      }),
  };
}
export type AnnotationTemplate = ReturnType<typeof annotationTemplate>;

/** Who suggested a template label and why, or why nothing was suggested. */
type SuggestedBy = { by: string; reason: string } | { unavailable: string | null };

/** What `withSuggestions` needs per item: the teacher's suggestion and its model, or why there is none. */
export interface TemplateSuggestion {
  suggestion: (LabelSuggestion & { model: string }) | null;
  unavailable: string | null;
}

/**
 * The template with the teacher's suggested labels taken (`queue show --template --suggest`),
 * as the console's "Use this label" takes them: verdict, category and expected step from the
 * suggestion, and `context.suggested` saying who suggested it and why, so the reviewer checks
 * each before submitting. Items without a suggestion keep the judge's prefill and say why.
 */
export function withSuggestions(
  template: AnnotationTemplate,
  suggestions: ReadonlyMap<string, TemplateSuggestion>,
) {
  return {
    ...template,
    labels: template.labels.map((label) => {
      const answer = suggestions.get(label.itemId);
      if (!answer) return label;
      const s = answer.suggestion;
      if (!s)
        return { ...label, context: { ...label.context, suggested: { unavailable: answer.unavailable } } };
      const { category: _judge, ...rest } = label;
      return {
        ...rest,
        verdict: s.verdict,
        ...(s.category ? { category: s.category } : {}),
        ...(s.expected ? { expected: s.expected } : {}),
        context: { ...label.context, suggested: { by: s.model, reason: s.reason } as SuggestedBy },
      };
    }),
  };
}
