/** A unified diff with added, removed and hunk lines marked (in colour and for screen readers). */
export function DiffLines({ text, label }: { text: string; label: string }) {
  return (
    <pre class="diff" tabIndex={0} aria-label={label}>
      {text.split('\n').map((line, i) => {
        const kind =
          line.startsWith('+') && !line.startsWith('+++')
            ? 'added'
            : line.startsWith('-') && !line.startsWith('---')
              ? 'removed'
              : line.startsWith('@@')
                ? 'hunk'
                : undefined;
        return (
          <span key={i} class={kind}>
            {kind === 'added' && <span class="visually-hidden">added: </span>}
            {kind === 'removed' && <span class="visually-hidden">removed: </span>}
            {line}
            {'\n'}
          </span>
        );
      })}
    </pre>
  );
}
