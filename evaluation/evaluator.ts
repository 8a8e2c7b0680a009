import type { AgentAction } from '../schemas/trace.js';

/** One contract for every scorer, so code checks, judges and humans compose. */
export interface Score {
  dimension: string;
  value: number;
  label: 'pass' | 'fail';
  explanation: string;
  source: 'code' | 'judge' | 'human';
  category?: string | null;
}

function argsMatch(expected: Record<string, unknown>, actual: Record<string, unknown>): string[] {
  const mismatched: string[] = [];
  for (const [key, value] of Object.entries(expected)) {
    if (JSON.stringify(actual[key]) !== JSON.stringify(value)) mismatched.push(key);
  }
  return mismatched;
}

/**
 * Expected-outcome match: the action must be the expected one, and every argument the
 * expectation names must be equal (extra arguments are allowed).
 */
export function outcomeMatch(expected: AgentAction, actual: AgentAction): Score {
  if (expected.action !== actual.action) {
    return {
      dimension: 'outcome_match',
      value: 0,
      label: 'fail',
      source: 'code',
      explanation: `expected action ${expected.action}, agent did ${actual.action}`,
    };
  }
  const wrong = argsMatch(expected.arguments, actual.arguments);
  if (wrong.length > 0) {
    return {
      dimension: 'outcome_match',
      value: 0,
      label: 'fail',
      source: 'code',
      explanation: `right action ${actual.action}, wrong arguments: ${wrong.join(', ')}`,
    };
  }
  return {
    dimension: 'outcome_match',
    value: 1,
    label: 'pass',
    source: 'code',
    explanation: `matched ${expected.action}`,
  };
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}
