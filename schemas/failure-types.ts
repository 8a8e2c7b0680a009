/** The ApplicationFailure types activities throw; workflows' retry policies name them. */
export const FailureType = {
  /** The cycle's input or the agent's stored configuration cannot be used as it is. */
  InvalidInput: 'InvalidInput',
  /** The model endpoint refused the request (bad request, auth, unknown model). */
  LlmBadRequest: 'LlmBadRequest',
  /** The model endpoint is overloaded or down (429, 5xx); retried after its Retry-After. */
  LlmUnavailable: 'LlmUnavailable',
  /** A structured answer was not JSON or off its schema; models are stochastic, so retried. */
  MalformedLlmOutput: 'MalformedLlmOutput',
} as const;
