/** Help texts of the client commands (`leasehold <command> --help`). */

export const CLIENT_COMMANDS = `Client commands (talk to a running server):
  secrets export      print an environment's secrets as dotenv, json, yaml or shell
  run -- <command>    run a command with the secrets in its environment
  lease create|renew|revoke   dynamic-secret leases (short-lived database or cloud credentials)`;

export const CLIENT_ENVIRONMENT = `Client environment:
  LEASEHOLD_HOST        server URL (default http://127.0.0.1:8080); PHASE_HOST is used when unset
                        (with /service/public appended, as Phase's clients do)
  LEASEHOLD_TOKEN       pss_service:v2:…, pss_user:v1:… or a 64-hex token; PHASE_SERVICE_TOKEN is
                        used when unset
  LEASEHOLD_TOKEN_TYPE  user | service: the type of a raw 64-hex token (default: tried as a service
                        account token, then as a user token)
  LEASEHOLD_TIMEOUT     seconds per request (default 60)

Exit codes: 0 ok, 64 usage, 65 request rejected (400/409), 66 not found, 69 server unreachable or
5xx, 75 rate limited, 77 token refused or no access (401/403), 78 bad LEASEHOLD_* setting or no
token. \`run\` then exits with its command's code (128+n when killed by signal n; 127 command not
found, 126 not executable).`;

const CONTEXT = `  --app <id>         the app's id (also --app-id)
  --env <name>       the environment's name, any case (e.g. Development)`;

export const SECRETS_HELP = `Usage: leasehold secrets export --app <id> --env <name> [options]

Prints the environment's secrets on stdout, sorted by key, references already resolved by the
server (a user token's active personal overrides replace the values).

Options:
${CONTEXT}
  --path <path>      the folder to read (default /); --path "" reads every folder (a key defined in
                     two folders is then an error)
  --tags <a,b>       only secrets carrying any of these tags
  --format <f>       dotenv (default), json (an object KEY -> value), yaml, or shell
                     (export KEY='value' lines, exact for eval or .)
  -h, --help

dotenv quoting: plain values bare, others in single quotes (literal: $, #, ", \\ and line breaks
kept), values containing ' in double quotes with \\\\ \\" \\$ \\\` \\n escapes. Keys that are not valid
names for the format are skipped with a warning on stderr.

${CLIENT_ENVIRONMENT}`;

export const RUN_HELP = `Usage: leasehold run --app <id> --env <name> [--path /] [--tags a,b] [--leases [--lease-ttl <s>]] -- <command> [args...]

Fetches the secrets as \`secrets export\` does and runs <command> (no shell) with them added to the
current environment, minus LEASEHOLD_TOKEN and PHASE_SERVICE_TOKEN (the command gets the secrets,
not the token that fetched them); a secret overrides a variable of the same name. stdin, stdout and
stderr are the command's; SIGINT, SIGTERM and SIGHUP are forwarded to it. Exits with the command's
exit code (128+n when it is killed by signal n). Wrap in sh -c '…' for pipes or variable expansion.

Options:
${CONTEXT}
  --path <path>      the folder to read (default /; "" for every folder)
  --tags <a,b>       only secrets carrying any of these tags
  --leases           also take a lease on every dynamic secret at the path and add its credentials;
                     the leases are revoked when the command exits (or end at their expiry if
                     leasehold itself is killed); they are not renewed, so a command that runs
                     past --lease-ttl loses its credentials then
  --lease-ttl <s>    the leases' TTL in seconds (default: each dynamic secret's default TTL)
  -h, --help

${CLIENT_ENVIRONMENT}`;

export const LEASE_HELP = `Usage:
  leasehold lease create --app <id> --env <name> --secret-id <id> [--ttl <seconds>] [--format f]
  leasehold lease renew  --app <id> --env <name> --lease-id <id> [--ttl <seconds>] [--format text|json]
  leasehold lease revoke --app <id> --env <name> --lease-id <id> [--format text|json]

create   takes a lease on a dynamic secret and prints its credentials (dotenv by default; shell;
         json and yaml print {lease_id, secret_id, expires_at, ttl, credentials}). With dotenv and
         shell the lease id and expiry go to stderr. --ttl defaults to the secret's default TTL.
renew    extends the lease by --ttl seconds (server default 3600) from its current expiry.
revoke   revokes the lease now (its credentials are removed from the target).

Options:
${CONTEXT}
  --secret-id <id>   the dynamic secret (its id from GET /v1/secrets/dynamic/)
  --lease-id <id>    the lease
  --ttl <seconds>    lease length
  -h, --help

${CLIENT_ENVIRONMENT}`;
