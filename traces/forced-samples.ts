import type { SampledTrace } from './sample-selection.js';

/**
 * Traces a cycle samples whatever its policy's rate and caps: the traces of the drift alert
 * that started it (`drift`) and live traces online evaluation failed (`online_failure`). A
 * trace the policy picked already keeps its place and gains the reason; the others are
 * added in the order given, each once.
 */
export function withForcedTraces(
  picked: readonly SampledTrace[],
  forced: readonly { traceId: string; reason: string }[],
): SampledTrace[] {
  const out = picked.map((p) => ({ ...p, reasons: [...p.reasons] }));
  const byId = new Map(out.map((p) => [p.traceId, p]));
  for (const f of forced) {
    const existing = byId.get(f.traceId);
    if (existing) {
      if (!existing.reasons.includes(f.reason)) existing.reasons.push(f.reason);
      continue;
    }
    const added = { traceId: f.traceId, reason: f.reason, reasons: [f.reason] };
    out.push(added);
    byId.set(f.traceId, added);
  }
  return out;
}
