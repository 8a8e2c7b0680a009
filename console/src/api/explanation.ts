/**
 * Evaluator explanations as a reviewer reads them. Code checks write the steps they compare
 * as `name {json}` (`expected respond {}, the agent did cancel_reservation
 * {"reservation_id":"M8N7B6"}`) and findings as `evaluator: kind — detail`; the item page
 * shows them as plain words, once.
 */

/** The JSON value starting at `text[start]` (an object or a list) and where it ends, if it parses. */
function jsonAt(text: string, start: number): { value: unknown; end: number } | null {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') {
      depth--;
      if (depth === 0) {
        try {
          return { value: JSON.parse(text.slice(start, i + 1)) as unknown, end: i + 1 };
        } catch {
          return null;
        }
      }
    }
  }
  return null;
}

const plainValue = (v: unknown): string =>
  typeof v === 'string'
    ? v
    : Array.isArray(v)
      ? v.map(plainValue).join(', ')
      : v !== null && typeof v === 'object'
        ? Object.entries(v)
            .map(([k, x]) => `${k}: ${plainValue(x)}`)
            .join(', ')
        : String(v);

/**
 * The explanation without JSON: a call's arguments read `(name: value, …)`, a call without
 * arguments reads as its name alone, and the reply step (`respond`) reads "a reply".
 */
export function plainExplanation(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    const json = ch === '{' || ch === '[' ? jsonAt(text, i) : null;
    if (!json) {
      out += ch;
      i++;
      continue;
    }
    const empty =
      json.value !== null && typeof json.value === 'object' && Object.keys(json.value).length === 0;
    // `respond {}` is the reply step; another call without arguments reads as its name.
    if (empty) out = /\brespond $/.test(out) ? out.replace(/respond $/, 'a reply') : out.replace(/ $/, '');
    else out += `(${plainValue(json.value)})`;
    i = json.end;
  }
  return out.trim();
}

/** A finding as the review context writes it: `evaluator: kind — detail`. */
export function plainFinding(finding: string): { kind: string | null; detail: string } {
  const match = /^[\w:.-]+: ([a-z_]+) — ([\s\S]*)$/.exec(finding);
  if (!match) return { kind: null, detail: plainExplanation(finding) };
  return { kind: match[1]!.replace(/_/g, ' '), detail: plainExplanation(match[2]!) };
}
