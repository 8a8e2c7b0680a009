/** What kind of problem a UserError is; each kind has one HTTP status. */
export const USER_ERROR_STATUS = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unavailable: 503,
  too_many_requests: 429,
} as const;
export type UserErrorCode = keyof typeof USER_ERROR_STATUS;

/**
 * An error a person can act on: the CLI prints the message alone, the API answers with
 * `status` and `{ error: message }` (with `field` when it names one). It lives with the schemas so pure code can throw it.
 */
export class UserError extends Error {
  override name = 'UserError';
  readonly status: number;

  constructor(
    message: string,
    readonly code: UserErrorCode = 'invalid_input',
    /**
     * The request field the problem is about (`expected.arguments`), when it is one field: the
     * API answers `{ error, field }` so a form shows the message at that field.
     */
    readonly field?: string,
  ) {
    super(message);
    this.status = USER_ERROR_STATUS[code];
  }
}

export class NotFoundError extends UserError {
  override name = 'NotFoundError';
  constructor(message: string) {
    super(message, 'not_found');
  }
}

export class ConflictError extends UserError {
  override name = 'ConflictError';
  constructor(message: string) {
    super(message, 'conflict');
  }
}

export class ForbiddenError extends UserError {
  override name = 'ForbiddenError';
  constructor(message: string) {
    super(message, 'forbidden');
  }
}

/** A dependency or a setting the request needs is missing; retrying later or configuring it helps. */
export class ServiceUnavailable extends UserError {
  override name = 'ServiceUnavailable';
  constructor(message: string) {
    super(message, 'unavailable');
  }
}
