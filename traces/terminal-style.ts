/**
 * Styling for trace text printed to a terminal. With color off (stdout is a pipe or a file,
 * or NO_COLOR is set) nothing emits escape codes, and an error still stands out by its
 * marker, so `grep ERROR` finds it either way.
 */
export interface TerminalStyle {
  color: boolean;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
  /** `✗ ERROR` (red with color), followed by the message when there is one. */
  error(message?: string): string;
}

const ansi = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;
const plain = (text: string) => text;

export function terminalStyle(color: boolean): TerminalStyle {
  const red = color ? ansi(31, 39) : plain;
  const bold = color ? ansi(1, 22) : plain;
  return {
    color,
    red,
    green: color ? ansi(32, 39) : plain,
    yellow: color ? ansi(33, 39) : plain,
    cyan: color ? ansi(36, 39) : plain,
    dim: color ? ansi(2, 22) : plain,
    bold,
    error: (message) => red(bold('✗ ERROR') + (message ? `: ${message}` : '')),
  };
}

/** The printable width of text: escape codes take no columns. */
export function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[\d+m/g, '').length;
}

/**
 * Text cut to `max` characters on one line (newlines and runs of spaces folded), with how
 * much was left out; `max` Infinity keeps all of it.
 */
export function oneLine(text: string, max: number): string {
  const folded = text.replace(/\s+/g, ' ').trim();
  return folded.length <= max ? folded : `${folded.slice(0, max)}… (+${folded.length - max} chars)`;
}

/** Milliseconds as a short duration: `850 µs`, `12.3 ms`, `820 ms`, `3.42 s`, `2 min 5 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
