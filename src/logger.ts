import pino, { type Logger, type LoggerOptions } from "pino";

/**
 * Paths pino blanks before a line is written. Secret values, credentials and tokens must never
 * reach a log; test/security/log-redaction.test.ts greps a full run's logs for them.
 */
export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  "req.headers[\"x-api-key\"]",
  "res.headers[\"set-cookie\"]",
  "headers.authorization",
  "authorization",
  "token",
  "*.token",
  "password",
  "*.password",
  "value",
  "*.value",
  "secret_access_key",
  "*.secret_access_key",
  "masterKey",
  "*.masterKey",
  "body",
  "*.body",
];

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: "[REDACTED]" },
    base: { service: "leasehold" },
  };
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return destination ? pino(loggerOptions(level), destination) : pino(loggerOptions(level));
}

export type { Logger };
