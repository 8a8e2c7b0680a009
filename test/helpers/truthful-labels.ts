import { ChatMessage } from '../../schemas/trace.js';
import type { Scenario } from '../simulator/scenario.js';
import { findExample } from '../simulator/simulated-models.js';

/** An annotation item as GET /api/cycles/:id/annotations lists it (the fields a reviewer reads). */
export interface QueuedItem {
  id: string;
  input: unknown;
  output: unknown;
}

/**
 * Labels a reviewer who knows the scenario's ground truth gives: a step passes when it is
 * the example's expected action, and the expected step is written down either way. Throws
 * on an item whose request is not one of the scenario's (the queue should hold only those).
 */
export function truthfulLabels(scenario: Scenario, items: readonly QueuedItem[], comment: string) {
  return items.map((item) => {
    const request = ChatMessage.array()
      .parse((item.input as { messages?: unknown }).messages)
      .map((m) => m.content)
      .join('\n');
    const example = findExample(scenario, request);
    if (!example) throw new Error(`queued item ${item.id} is not a request of scenario "${scenario.name}"`);
    const did = (item.output as { action?: string }).action;
    return {
      itemId: item.id,
      verdict: did === example.expected.action ? ('pass' as const) : ('fail' as const),
      expected: example.expected,
      comment,
    };
  });
}
