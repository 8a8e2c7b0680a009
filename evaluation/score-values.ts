import type { ScoreConfig, ScoreValue } from '../schemas/score-config.js';

export interface CheckedScores {
  /** Normalised values: NUMERIC a number, CATEGORICAL the category label, BOOLEAN a boolean. */
  values: Record<string, ScoreValue>;
  /** One sentence per rejected value; any error means nothing of the label is stored. */
  errors: string[];
}

function checkOne(config: ScoreConfig, raw: unknown): { value: ScoreValue } | { error: string } {
  const name = config.name;
  switch (config.dataType) {
    case 'NUMERIC': {
      const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isFinite(n))
        return { error: `score "${name}" is NUMERIC: send a number, not ${JSON.stringify(raw)}` };
      if (
        (config.minValue != null && n < config.minValue) ||
        (config.maxValue != null && n > config.maxValue)
      )
        return {
          error: `score "${name}" must be within [${config.minValue ?? '-∞'}, ${config.maxValue ?? '∞'}]; got ${n}`,
        };
      return { value: n };
    }
    case 'CATEGORICAL': {
      const categories = config.categories ?? [];
      // A category is named by its label; its numeric value is accepted too (Langfuse stores both).
      const match = categories.find(
        (c) => c.label === raw || (typeof raw === 'number' && c.value === raw) || String(c.value) === raw,
      );
      if (!match)
        return {
          error: `score "${name}" has no category ${JSON.stringify(raw)}; use one of ${categories.map((c) => c.label).join(', ')}`,
        };
      return { value: match.label };
    }
    case 'BOOLEAN': {
      if (raw === true || raw === 1 || raw === 'true' || raw === '1') return { value: true };
      if (raw === false || raw === 0 || raw === 'false' || raw === '0') return { value: false };
      return { error: `score "${name}" is BOOLEAN: send true or false, not ${JSON.stringify(raw)}` };
    }
  }
}

/**
 * Checks a reviewer's score values against the score configs their queue lists: unknown
 * names, values outside a range, unknown categories and non-booleans are each named.
 */
export function checkScoreValues(
  configs: readonly ScoreConfig[],
  raw: Readonly<Record<string, unknown>>,
): CheckedScores {
  const byName = new Map(configs.map((c) => [c.name, c]));
  const values: Record<string, ScoreValue> = {};
  const errors: string[] = [];
  for (const [name, value] of Object.entries(raw)) {
    const config = byName.get(name);
    if (!config) {
      errors.push(
        `unknown score config "${name}"; this queue takes ${configs.length ? configs.map((c) => c.name).join(', ') : 'no scores'}`,
      );
      continue;
    }
    const checked = checkOne(config, value);
    if ('error' in checked) errors.push(checked.error);
    else values[name] = checked.value;
  }
  return { values, errors };
}
