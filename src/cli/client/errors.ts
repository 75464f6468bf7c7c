/**
 * Exit codes of the client commands (BSD sysexits, so CI scripts can tell the causes apart).
 * `leasehold run` exits with its command's code once the command has started; these codes are
 * for what goes wrong before that.
 */
export const EXIT = {
  ok: 0,
  /** Bad flags, a missing option, an unknown subcommand. */
  usage: 64,
  /** The server rejected the request as invalid (400, 409, other 4xx), or the secrets cannot be rendered as asked. */
  data: 65,
  /** 404: app, environment, secret or lease not found. */
  notFound: 66,
  /** The server could not be reached, answered 5xx, or answered something that is not its JSON. */
  unavailable: 69,
  /** 429: rate limited; try again later. */
  tempFail: 75,
  /** 401/403: the token is wrong, expired, or has no access. */
  noPerm: 77,
  /** No token, a malformed token, a bad LEASEHOLD_HOST or LEASEHOLD_TOKEN_TYPE. */
  config: 78,
  /** `run`: the command was found but could not be executed. */
  cannotExecute: 126,
  /** `run`: the command was not found. */
  commandNotFound: 127,
} as const;

/** An error the CLI reports as `leasehold: <message>` on stderr, exiting with `code`. */
export class CliError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = "CliError";
  }
}

export const usageError = (message: string) => new CliError(EXIT.usage, message);

/** The exit code for an HTTP error status. */
export function exitCodeForStatus(status: number): number {
  if (status === 401 || status === 403) return EXIT.noPerm;
  if (status === 404) return EXIT.notFound;
  if (status === 429) return EXIT.tempFail;
  if (status >= 500) return EXIT.unavailable;
  return EXIT.data;
}
