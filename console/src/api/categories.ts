import type { Category } from './types.js';

/**
 * The failure categories a label may carry, with their names on the form, in the order it
 * lists them. Typed by the OpenAPI document's label body: a category the API adds or drops
 * fails the typecheck here.
 */
export const CATEGORY_LABELS: Record<Category, string> = {
  tool_selection: 'Tool selection',
  argument_error: 'Argument error',
  missing_confirmation: 'Missing confirmation',
  escalation: 'Escalation',
  policy_violation: 'Policy violation',
  other: 'Other',
};

export const CATEGORIES = Object.keys(CATEGORY_LABELS) as Category[];
