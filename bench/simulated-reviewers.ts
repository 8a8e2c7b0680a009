import { unitInterval } from '../optimizers/stable-hash.js';
import { FailureCategory } from '../schemas/llm-outputs.js';
import type { AgentAction } from '../schemas/trace.js';
import type { Scenario } from '../test/simulator/scenario.js';

/** A queued item as the reviewer sees it: what the agent did on which trace. */
export interface ReviewItem {
  itemId: string;
  traceId: string;
  output: unknown;
}

export interface ReviewerLabel {
  itemId: string;
  verdict: 'pass' | 'fail';
  expected?: AgentAction;
  category?: FailureCategory;
  comment?: string;
}

/**
 * Simulated reviewers for bench:flywheel: they label up to `limit` items from the
 * simulator's ground truth (the example each trace was drawn from) and get each label wrong
 * with probability `errorRate`. A right "fail" names the expected step, the rule's category
 * when it is one the annotation schema knows, and a note on what went wrong, as a careful
 * reviewer would; a wrong one flips the verdict (a false "fail" points at another action).
 */
export function reviewerLabels(
  scenario: Scenario,
  items: readonly ReviewItem[],
  exampleOf: (traceId: string) => string | undefined,
  options: { errorRate: number; limit: number; seed: number },
): ReviewerLabel[] {
  const labels: ReviewerLabel[] = [];
  for (const item of items.slice(0, Math.max(0, options.limit))) {
    const example = scenario.examples.find((e) => e.id === exampleOf(item.traceId));
    const did = (item.output as { action?: unknown } | null)?.action;
    // A trace the simulator did not produce has no ground truth: the reviewer passes it.
    const truthPass = example ? did === example.expected.action : true;
    const mistaken = unitInterval(`reviewer|${item.itemId}`, options.seed) < options.errorRate;
    const pass = mistaken ? !truthPass : truthPass;
    if (pass) {
      labels.push({ itemId: item.itemId, verdict: 'pass' });
      continue;
    }
    if (mistaken || !example) {
      const other = scenario.actions.find((a) => a.name !== did)?.name ?? 'respond';
      // The API refuses a tool call its parameters reject, so a mistaken reviewer still fills
      // in plausible arguments: those of another request that needed that tool.
      const args = scenario.examples.find((e) => e.expected.action === other)?.expected.arguments ?? {};
      labels.push({ itemId: item.itemId, verdict: 'fail', expected: { action: other, arguments: args } });
      continue;
    }
    const rule = scenario.rules.find((r) => r.id === example.rule);
    const category = FailureCategory.safeParse(rule?.category);
    labels.push({
      itemId: item.itemId,
      verdict: 'fail',
      // A text reply is matched on its content too, as the optimization harness does.
      expected:
        example.expected.action === 'respond'
          ? { ...example.expected, content: example.reply }
          : example.expected,
      ...(category.success ? { category: category.data } : {}),
      ...(rule ? { comment: rule.judgeRationale } : {}),
    });
  }
  return labels;
}
