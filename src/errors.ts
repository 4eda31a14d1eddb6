/**
 * Errors a user can cause (bad input, bad config, impossible parameter) are MentiaError:
 * the CLI prints the message on one line and exits with code 2. Anything else is a bug and
 * is thrown as it is.
 */
export class MentiaError extends Error {
  override readonly name = "MentiaError";
  constructor(message: string) {
    super(message);
  }
}
