import type { z } from 'zod';
import { formatIssues } from '../schemas/format-issues.js';
import { nestsDeeperThan, tooDeepMessage } from './json-depth.js';

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
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      errors.push({ line, error: `not valid JSON (${e instanceof Error ? e.message : String(e)})` });
      return;
    }
    // Storing a record serializes it again, which recurses: refuse what would overflow.
    if (nestsDeeperThan(value)) errors.push({ line, error: tooDeepMessage('the record') });
    else values.push({ line, value });
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
