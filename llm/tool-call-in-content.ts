/**
 * A tool call the server left in the message text. OpenAI-compatible servers return a call
 * in `tool_calls` only when their chat template's parser recognises it; otherwise the model's
 * `{"name": …, "arguments": {…}}` arrives as plain content (often in a ```json fence). Such a
 * reply is read as the call it is when, and only when, it is exactly one JSON object naming
 * a declared tool with object (or JSON-string) arguments; any other text stays a reply.
 */
export function toolCallInContent(
  content: string | null,
  declared: readonly string[],
): { name: string; arguments: string } | null {
  if (!content) return null;
  let text = content.trim();
  const fenced = /^```(?:json)?\s*\n?([\s\S]*?)\n?```$/i.exec(text);
  if (fenced) text = fenced[1]!.trim();
  if (!text.startsWith('{') || !text.endsWith('}')) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const call = value as Record<string, unknown>;
  const keys = Object.keys(call);
  if (typeof call.name !== 'string' || !declared.includes(call.name)) return null;
  if (keys.some((k) => k !== 'name' && k !== 'arguments' && k !== 'parameters')) return null;
  let args: unknown = call.arguments ?? call.parameters ?? {};
  if (typeof args === 'string') {
    try {
      args = JSON.parse(args) as unknown;
    } catch {
      return null;
    }
  }
  if (args === null || typeof args !== 'object' || Array.isArray(args)) return null;
  return { name: call.name, arguments: JSON.stringify(args) };
}
