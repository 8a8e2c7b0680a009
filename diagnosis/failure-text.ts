import type { TraceRecord } from '../schemas/trace.js';

export interface FailedEvaluation {
  dimension: string;
  evaluator: string;
  explanation: string;
  category: string | null;
  findings: readonly { kind: string; detail: string }[];
}

/** Values in explanations (ids, amounts, argument objects) tell traces apart, not failure modes. */
function generalize(text: string): string {
  return text
    .replace(/\{[^{}]*\}/g, ' ')
    .replace(/"[^"]*"/g, ' ')
    .replace(/\b[A-Z0-9]*\d[A-Z0-9_-]*\b/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\s*;\s*/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * What a failure is "about", as one text to embed: the step the agent took, the distinct
 * things the failing evaluators said (each sentence once, values stripped), and the
 * failure kinds and categories. Several rubrics often repeat one rationale, and which of
 * them fired varies with judge noise; counting each sentence once keeps two failures of
 * the same mode close whichever rubrics caught them. The user's request is left out: it
 * says which task failed, and the same mode hits many tasks.
 */
export function failureText(trace: TraceRecord, failed: readonly FailedEvaluation[]): string {
  const ordered = [...failed].sort((a, b) => a.evaluator.localeCompare(b.evaluator));
  const said = [...new Set(ordered.flatMap((f) => sentences(generalize(f.explanation))))];
  const kinds = [
    ...new Set(
      ordered.flatMap((f) => [...(f.category ? [f.category] : []), ...f.findings.map((x) => x.kind)]),
    ),
  ].sort();
  return `agent: ${trace.output.action}\n${said.join(' ')}\nkinds: ${kinds.join(' ')}`;
}
