import type { z } from 'zod';

export interface LineError {
  line: number;
  error: string;
}

/**
 * Parses newline-delimited JSON against a schema, keeping every valid record and naming
 * every bad line by its 1-based number, so one typo never costs the rest of the file.
 */
export function parseJsonl<T>(
  text: string,
  schema: z.ZodType<T>,
): { records: { line: number; value: T }[]; errors: LineError[] } {
  const records: { line: number; value: T }[] = [];
  const errors: LineError[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (e) {
      errors.push({ line, error: `not valid JSON (${e instanceof Error ? e.message : String(e)})` });
      return;
    }
    const parsed = schema.safeParse(json);
    if (parsed.success) records.push({ line, value: parsed.data });
    else {
      errors.push({
        line,
        error: parsed.error.issues
          .map((i) => `${i.path.length ? i.path.join('.') : '(record)'}: ${i.message}`)
          .join('; '),
      });
    }
  });
  return { records, errors };
}
