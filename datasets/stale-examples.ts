import { REGRESSION_SLICE } from './example-slices.js';

/**
 * The examples a dataset policy's `stalenessDays` retires from the next cycle version:
 * those that came from production traces (`source: 'cycle'`) and were first added more
 * than `stalenessDays` before `now`. Production behaviour drifts, so an old label may
 * describe an agent, a policy or users that no longer exist; imported examples were
 * curated on purpose and stay until someone retires them (`dataset retire`), and so does the
 * regression suite (confirmed failures keep guarding their fix however old). An example a
 * cycle labels again is new in that version and starts its age again.
 */
export function staleExamples(
  examples: readonly { key: string; source: string; createdAt: Date | null; slices?: readonly string[] }[],
  stalenessDays: number | undefined,
  now: Date,
): { key: string; reason: string }[] {
  if (stalenessDays === undefined) return [];
  const cutoff = now.getTime() - stalenessDays * 86_400_000;
  return examples.flatMap((e) =>
    e.source === 'cycle' &&
    e.createdAt !== null &&
    e.createdAt.getTime() < cutoff &&
    !(e.slices ?? []).includes(REGRESSION_SLICE)
      ? [
          {
            key: e.key,
            reason: `stale: first added ${e.createdAt.toISOString()}, more than ${stalenessDays} day(s) ago (dataset policy stalenessDays)`,
          },
        ]
      : [],
  );
}
