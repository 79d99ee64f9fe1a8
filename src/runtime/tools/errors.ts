/**
 * The tools' typed errors, one per error tier (STYLE 6): `ToolConfigError` for a mistake in
 * the registry, a tool module or the config file, thrown before a run starts;
 * `ToolInputError` for a call whose input a tool cannot use; `ToolError` for a call that
 * failed on the way, carrying the `code` (ECONNREFUSED, ETIMEDOUT) that `errorType` reads.
 */

/** A registry, tool module or config mistake: says which file and what to change. */
export class ToolConfigError extends Error {
  override readonly name = 'ToolConfigError';
}

/** The input given to a tool is missing a field or has one of the wrong type. */
export class ToolInputError extends Error {
  override readonly name = 'ToolInputError';
}

/** A tool's call failed: a socket error, a timeout. */
export class ToolError extends Error {
  override readonly name = 'ToolError';
  constructor(
    message: string,
    /** The socket error's code (`ECONNREFUSED`), or `ETIMEDOUT` for a timeout. */
    readonly code?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
