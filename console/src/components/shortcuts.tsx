/** The keyboard shortcuts of a page, always visible next to what they act on. */
export function Shortcuts({ label, keys }: { label: string; keys: readonly (readonly [string, string])[] }) {
  return (
    <aside class="shortcuts" aria-label={label}>
      <h2 class="small">Keyboard</h2>
      <dl>
        {keys.map(([key, what]) => (
          <div key={key}>
            <dt>
              <kbd>{key}</kbd>
            </dt>
            <dd>{what}</dd>
          </div>
        ))}
      </dl>
    </aside>
  );
}
