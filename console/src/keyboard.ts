/** Whether a key press is text entry (a field, a select, an editable element): shortcuts stay out of it. */
export function isTyping(event: KeyboardEvent): boolean {
  const target = event.target;
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement)
    return !['checkbox', 'radio', 'button', 'submit', 'reset'].includes(target.type);
  return false;
}

/*
 * Single-key shortcuts (j, k, p, f, …) can be turned off (WCAG 2.1.4): speech input types
 * words as key presses, and some screen readers' own single-key commands reach the page.
 * Ctrl+Enter and Esc stay. The choice is kept in this browser.
 */
const SINGLE_KEYS = 'flywheel.singleKeyShortcuts';
const singleKeyListeners = new Set<() => void>();
let singleKeys = (() => {
  try {
    return localStorage.getItem(SINGLE_KEYS) !== 'off';
  } catch {
    return true;
  }
})();

/** Whether single-key shortcuts are on, read when a key is pressed. */
export const singleKeyShortcutsOn = (): boolean => singleKeys;

export function setSingleKeyShortcuts(on: boolean): void {
  singleKeys = on;
  try {
    localStorage.setItem(SINGLE_KEYS, on ? 'on' : 'off');
  } catch {
    // Not kept (storage refused): on for this page only.
  }
  for (const listener of singleKeyListeners) listener();
}

export function subscribeSingleKeyShortcuts(listener: () => void): () => void {
  singleKeyListeners.add(listener);
  return () => singleKeyListeners.delete(listener);
}
