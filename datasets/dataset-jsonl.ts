import { DatasetExampleLine, type DatasetSplit } from '../schemas/dataset-example.js';
import type { AgentAction } from '../schemas/trace.js';
import { stableHash53 } from '../optimizers/stable-hash.js';
import { formatIssues } from '../schemas/format-issues.js';

export interface ImportedExample {
  line: number;
  key: string;
  traceId: string | null;
  input: { messages: unknown[] } & Record<string, unknown>;
  expected: AgentAction;
  split: DatasetSplit | null;
  slices: string[];
  lineage: {
    clusterId: string | null;
    clusterStableId: string | null;
    cycleId: string | null;
  };
}

export interface LineError {
  line: number;
  error: string;
}

const SPLIT_NAMES = DatasetExampleLine.shape.split.unwrap().options;

/** A stable key for an imported example without one: its content. */
export function contentKey(input: unknown, expected: unknown): string {
  const text = JSON.stringify([input, expected]);
  return `import:${stableHash53(text, 1).toString(36)}${stableHash53(text, 2).toString(36)}`;
}

function explain(raw: Record<string, unknown>): string | null {
  const expected = raw.expected as { action?: unknown } | undefined;
  if (expected === undefined || expected === null)
    return 'missing expected action: add "expected": {"action": "<tool or respond>", "arguments": {...}}';
  if (typeof expected !== 'object' || typeof expected.action !== 'string' || expected.action === '')
    return 'expected.action must be a non-empty string naming the expected tool call (or "respond")';
  if (raw.split !== undefined && !(SPLIT_NAMES as readonly unknown[]).includes(raw.split))
    return `split must be one of ${SPLIT_NAMES.join(', ')} (got ${JSON.stringify(raw.split)}); or leave it out to split by hash`;
  if (raw.input === undefined) return 'missing input: add "input": {"messages": [...]} or a string';
  return null;
}

/**
 * Parses a dataset JSONL file. Each malformed line is reported with its number and what is
 * wrong; every valid line is kept, so one bad record never costs the rest of the file.
 */
export function parseDatasetJsonl(text: string): { examples: ImportedExample[]; errors: LineError[] } {
  const examples: ImportedExample[] = [];
  const errors: LineError[] = [];
  const firstLine = new Map<string, number>();
  text.split(/\r?\n/).forEach((rawLine, i) => {
    const line = i + 1;
    if (rawLine.trim() === '') return;
    let raw: unknown;
    try {
      raw = JSON.parse(rawLine);
    } catch (e) {
      errors.push({ line, error: `not valid JSON (${e instanceof Error ? e.message : String(e)})` });
      return;
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      errors.push({ line, error: 'each line must be one JSON object' });
      return;
    }
    const reason = explain(raw as Record<string, unknown>);
    if (reason) {
      errors.push({ line, error: reason });
      return;
    }
    const parsed = DatasetExampleLine.safeParse(raw);
    if (!parsed.success) {
      errors.push({
        line,
        error: formatIssues(parsed.error, { root: 'line' }),
      });
      return;
    }
    const d = parsed.data;
    const traceId = d.lineage?.traceId ?? d.traceId ?? null;
    const key = d.key ?? traceId ?? contentKey(d.input, d.expected);
    const seen = firstLine.get(key);
    if (seen !== undefined) {
      errors.push({ line, error: `duplicate example key ${key} (first on line ${seen})` });
      return;
    }
    firstLine.set(key, line);
    examples.push({
      line,
      key,
      traceId,
      input: d.input,
      expected: d.expected,
      split: d.split ?? null,
      slices: [...new Set([...(d.slices ?? []), ...(d.tags ?? [])])].sort(),
      lineage: {
        clusterId: d.lineage?.clusterId ?? null,
        clusterStableId: d.lineage?.clusterStableId ?? null,
        cycleId: d.lineage?.cycleId ?? null,
      },
    });
  });
  return { examples, errors };
}
