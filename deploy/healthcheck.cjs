// The image's HEALTHCHECK: GET /healthz on this container's own listener, exit 0 on a 200.
// node:http(s) rather than fetch: with TLS_CERT_FILE set the server speaks HTTPS with a
// certificate issued for its public name (or self-signed), never for 127.0.0.1, and fetch cannot
// skip verification for one request without undici's Agent. Skipping it is safe here only because
// the probe talks to its own container, sends nothing and reads nothing but the status code.
"use strict";

const env = process.env;
const https = Boolean(env.TLS_CERT_FILE);
const wildcard = ["", "0.0.0.0", "::", "[::]"];
const host = wildcard.includes(env.HOST ?? "") ? "127.0.0.1" : env.HOST;
const port = Number(env.PORT || 8080);

const req = require(https ? "node:https" : "node:http").get(
  { host, port, path: "/healthz", timeout: 4000, rejectUnauthorized: false },
  (res) => {
    res.resume();
    process.stdout.write(`GET /healthz: ${res.statusCode}\n`);
    process.exit(res.statusCode === 200 ? 0 : 1);
  },
);
req.on("timeout", () => req.destroy(new Error("no answer within 4 s")));
req.on("error", (err) => {
  process.stdout.write(`GET /healthz failed: ${err.message}\n`);
  process.exit(1);
});
