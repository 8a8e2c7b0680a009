/**
 * A cycle's outcome as a badge: released and "no failures" (a good week, though nothing
 * shipped) read as good, a running cycle as neutral, every other end as bad.
 */
export function OutcomeBadge({ outcome }: { outcome: string }) {
  const tone =
    outcome === 'released' || outcome === 'no_failures'
      ? 'good'
      : outcome === 'in_progress'
        ? 'neutral'
        : 'bad';
  return <span class={`badge ${tone}`}>{outcome.replace(/_/g, ' ')}</span>;
}
