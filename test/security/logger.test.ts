import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";

function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      cb();
    },
  });
  const log = createLogger("trace", sink);
  return { log, last: () => JSON.parse(lines.at(-1)!) as Record<string, unknown> };
}

describe("logger redaction", () => {
  it("censors sensitive keys at any depth of plain objects and arrays, whatever their case", () => {
    const { log, last } = capture();
    log.info(
      {
        secrets: [{ key: "DB_PASSWORD", value: "v1", comment: "c1", path: "/" }],
        issued: { id: "tok-id", token: "t1", phase_token: "pt1", authorization: "Bearer t1" },
        deep: { a: { b: { c: { Token: "t2", headers: { Authorization: "Bearer t2", "X-API-Key": "k" } } } } },
        config: { LEASEHOLD_MASTER_KEY: "mk", DATABASE_URL: "postgres://u:pw@h/db", REDIS_URL: "redis://:pw@h" },
        aws: { SecretAccessKey: "sk", SessionToken: "st", AccessKeyId: "AKIA" },
        password: "p",
        body: { anything: "b" },
      },
      "event",
    );
    expect(last()).toMatchObject({
      secrets: [{ key: "DB_PASSWORD", value: "[REDACTED]", comment: "[REDACTED]", path: "/" }],
      issued: { id: "tok-id", token: "[REDACTED]", phase_token: "[REDACTED]", authorization: "[REDACTED]" },
      deep: { a: { b: { c: { Token: "[REDACTED]", headers: { Authorization: "[REDACTED]", "X-API-Key": "[REDACTED]" } } } } },
      config: { LEASEHOLD_MASTER_KEY: "[REDACTED]", DATABASE_URL: "[REDACTED]", REDIS_URL: "[REDACTED]" },
      aws: { SecretAccessKey: "[REDACTED]", SessionToken: "[REDACTED]", AccessKeyId: "AKIA" },
      password: "[REDACTED]",
      body: "[REDACTED]",
      msg: "event",
    });
  });

  it("keeps what is not secret: ids, keys, paths, token ids, nulls", () => {
    const { log, last } = capture();
    log.info({ tokenId: "t-id", token_id: "t-id", keyDigest: "d", key: "API_KEY", value: null, comment: undefined }, "ok");
    expect(last()).toMatchObject({ tokenId: "t-id", token_id: "t-id", keyDigest: "d", key: "API_KEY", value: null });
  });

  it("never mutates what was logged", () => {
    const { log } = capture();
    const obj = { secrets: [{ value: "v" }], nested: { token: "t" } };
    log.info(obj, "x");
    expect(obj).toEqual({ secrets: [{ value: "v" }], nested: { token: "t" } });
  });

  it("leaves class instances to their serializers: errors keep their message, getters are not called", () => {
    const { log, last } = capture();
    class Request {
      get body(): string {
        throw new Error("a getter was walked");
      }
    }
    log.error({ err: new Error("boom"), req: new Request() }, "failed");
    expect((last()["err"] as { message: string }).message).toBe("boom");
  });

  it("copes with cycles", () => {
    const { log, last } = capture();
    const a: Record<string, unknown> = { name: "a", token: "t" };
    a["self"] = a;
    log.info({ a }, "cycle");
    expect((last()["a"] as Record<string, unknown>)["token"]).toBe("[REDACTED]");
  });

  it("blanks request headers a serializer might emit", () => {
    const { log, last } = capture();
    const child = log.child({ reqId: "r1" });
    child.info({ req: { method: "GET", url: "/v1/secrets/?key=API_KEY", headers: { authorization: "Bearer x", cookie: "c" } } }, "incoming");
    expect(last()["req"]).toEqual({ method: "GET", url: "/v1/secrets/?key=API_KEY", headers: { authorization: "[REDACTED]", cookie: "[REDACTED]" } });
  });
});
