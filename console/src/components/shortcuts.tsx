import { useSyncExternalStore } from 'preact/compat';
import { setSingleKeyShortcuts, singleKeyShortcutsOn, subscribeSingleKeyShortcuts } from '../keyboard.js';

/** The keyboard shortcuts of a page, always visible next to what they act on, and the switch for the single-key ones. */
export function Shortcuts({ label, keys }: { label: string; keys: readonly (readonly [string, string])[] }) {
  const on = useSyncExternalStore(subscribeSingleKeyShortcuts, singleKeyShortcutsOn);
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
      <label class="inline">
        <input
          type="checkbox"
          checked={on}
          onChange={(e) => setSingleKeyShortcuts(e.currentTarget.checked)}
        />{' '}
        Single-key shortcuts (off for speech input, or when they clash with a screen reader)
      </label>
    </aside>
  );
}
