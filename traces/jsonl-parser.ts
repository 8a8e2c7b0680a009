import type { z } from 'zod';
import { formatIssues } from '../schemas/format-issues.js';

export interface LineError {
  line: number;
  error: string;
}

/** Splits newline-delimited JSON, naming every line that is not JSON by its 1-based number. */
export function parseJsonLines(text: string): {
  values: { line: number; value: unknown }[];
  errors: LineError[];
} {
  const values: { line: number; value: unknown }[] = [];
  const errors: LineError[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    try {
      values.push({ line, value: JSON.parse(raw) });
    } catch (e) {
      errors.push({ line, error: `not valid JSON (${e instanceof Error ? e.message : String(e)})` });
    }
  });
  return { values, errors };
}

/**
 * Parses newline-delimited JSON against a schema, keeping every valid record and naming
 * every bad line by its 1-based number, so one typo never costs the rest of the file.
 */
export function parseJsonl<T>(
  text: string,
  schema: z.ZodType<T>,
): { records: { line: number; value: T }[]; errors: LineError[] } {
  const { values, errors } = parseJsonLines(text);
  const records: { line: number; value: T }[] = [];
  for (const { line, value } of values) {
    const parsed = schema.safeParse(value);
    if (parsed.success) records.push({ line, value: parsed.data });
    else {
      errors.push({
        line,
        error: formatIssues(parsed.error, { root: '(record)' }),
      });
    }
  }
  errors.sort((a, b) => a.line - b.line);
  return { records, errors };
}
