/**
 * How deep a parsed JSON value nests, measured without recursion. JSON.parse accepts any
 * depth, but the schemas, the mapping and JSON.stringify recurse and overflow the stack
 * somewhere past ten thousand levels, which took a whole request down with a 500. Ingest
 * refuses a record nested deeper than MAX_JSON_DEPTH before anything recursive reads it.
 */

/** Generous for real telemetry: an OTLP AnyValue costs three JSON levels per level of nesting. */
export const MAX_JSON_DEPTH = 256;

/** True when `value` nests more than `max` arrays/objects deep. */
export function nestsDeeperThan(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const stack: { value: object; depth: number }[] = [{ value, depth: 1 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (depth > max) return true;
    const children = Array.isArray(current) ? current : Object.values(current);
    for (const child of children) {
      if (typeof child === 'object' && child !== null)
        stack.push({ value: child as object, depth: depth + 1 });
    }
  }
  return false;
}

export const tooDeepMessage = (what: string, max: number = MAX_JSON_DEPTH): string =>
  `${what} nests deeper than ${max} levels of arrays and objects; flatten it (send nested data as a JSON string attribute) and resend`;
