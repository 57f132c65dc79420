// The one error the CLI expects: its message is printed as `✗ <message>` and the process exits 1.
// Anything else that escapes a command is reported the same way by main.ts.

export class CliError extends Error {
  override name = 'CliError';
  /** Works across module copies, where instanceof does not. */
  get isCliError(): true {
    return true;
  }
}

export const isCliError = (err: unknown): err is CliError =>
  Boolean((err as CliError | undefined)?.isCliError);
