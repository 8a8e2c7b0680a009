import type { ComponentChildren } from 'preact';

/** A query's loading and error states as text; the children render its data. */
export function QueryState<T>({
  query,
  what,
  children,
}: {
  query: { isPending: boolean; isError: boolean; error: Error | null; data: T | undefined };
  what: string;
  children: (data: T) => ComponentChildren;
}) {
  if (query.isPending)
    return (
      <p class="muted" aria-live="polite">
        Loading {what}…
      </p>
    );
  if (query.isError || query.data === undefined)
    return (
      <p class="error" role="alert">
        Could not load {what}: {query.error?.message ?? 'no answer'}
      </p>
    );
  return <>{children(query.data)}</>;
}

/** A time as the reader's locale writes it, with the ISO value for machines. */
export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="muted">—</span>;
  return <time dateTime={iso}>{new Date(iso).toLocaleString()}</time>;
}
