/** The text between `<tag>` and `</tag>` in a request (the meta-prompts' sections), if any. */
export const between = (text: string, tag: string): string | undefined =>
  new RegExp(`<${tag}>\\n?([\\s\\S]*?)\\n?</${tag}>`).exec(text)?.[1];
