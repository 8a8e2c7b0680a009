/** The part of a zod error that formatting reads (zod 3 and 4 errors both have it). */
export interface IssueList {
  readonly issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[];
}

export interface IssueFormat {
  /** What an issue about the whole value is called (`input`, `(record)`, `line`); '': not named. */
  root?: string;
  /** Where the value sits in a larger document; prepended to every issue's path. */
  at?: readonly PropertyKey[];
}

/**
 * A zod error as one line, `path: message; path: message`, for CLI output, API answers and
 * per-line import reports. A message that already starts with its field's name (a schema's
 * own wording, "traceId is required ...") is not prefixed again.
 */
export function formatIssues(error: IssueList, { root = 'input', at = [] }: IssueFormat = {}): string {
  return error.issues
    .map(({ path, message }) => {
      const full = [...at, ...path];
      if (full.length === 0) return root ? `${root}: ${message}` : message;
      const head = full[0];
      if (typeof head === 'string' && message.startsWith(head) && !/\w/.test(message.charAt(head.length)))
        return message;
      return `${full.map(String).join('.')}: ${message}`;
    })
    .join('; ');
}
