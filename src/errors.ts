// Errors a user can cause. The CLI prints `message` on one line and exits with
// `exitCode`; anything else is a bug and is shown with a stack only under --debug.

export class InputError extends Error {
  override name = "InputError";
  /** 2: bad usage or unreadable input; 3: the request was not refused. */
  readonly exitCode: 2 | 3;
  constructor(message: string, exitCode: 2 | 3 = 2) {
    super(message);
    this.exitCode = exitCode;
  }
}

export class UsageError extends InputError {
  override name = "UsageError";
}

/** Raised when the subject of the run was not refused at all (exit 3). */
export class NotRefusedError extends InputError {
  override name = "NotRefusedError";
  constructor(message: string) {
    super(message, 3);
  }
}

export function isInputError(e: unknown): e is InputError {
  return e instanceof InputError;
}
