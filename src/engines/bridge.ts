import { z } from "zod";
import type { DefinitionBridge } from "../dynamic/service.js";
import { BadRequestError } from "../errors.js";
import { connectionTestFailure } from "../providers/scrub.js";
import { boundsOf, type EngineSources } from "./sources.js";

const configSchema = z.strictObject({ engine: z.string().min(1).max(128), role: z.string().min(1).max(128) });

/**
 * Phase dynamic secrets backed by an engine role (`"provider": "engine", "config": {"engine":
 * "support-db", "role": "readonly"}`): the definition stores only the two names; each lease is
 * minted with the engine's current root credentials and the role's statements, and is recorded
 * against the engine and role (so revoke-prefix and engine deletion reach it).
 */
export function createDefinitionBridge(sources: EngineSources): DefinitionBridge {
  function parse(raw: Record<string, unknown>) {
    const r = configSchema.safeParse(raw);
    if (r.success) return r.data;
    const issue = r.error.issues[0];
    throw new BadRequestError(`Invalid config: ${issue?.path.join(".") || "config"}: ${issue?.code === "unrecognized_keys" ? "only 'engine' and 'role' are allowed" : (issue?.message ?? "invalid value")}`);
  }

  return {
    async validate(raw, verify) {
      const config = parse(raw);
      const opened = await sources.open(config.engine, config.role);
      const failure = verify ? await connectionTestFailure(opened.provider, opened.config) : null;
      if (failure !== null) throw new BadRequestError(`The connection test failed: ${failure}`);
      return { config, provider: opened.provider, maxTtl: opened.bounds.maxTtl };
    },

    async maxTtl(raw) {
      const config = parse(raw);
      const engine = await sources.engineNamed(config.engine);
      return boundsOf(engine, await sources.roleOf(engine, config.role)).maxTtl;
    },

    async open(raw) {
      const config = parse(raw);
      const opened = await sources.open(config.engine, config.role);
      return {
        provider: opened.provider,
        config: opened.config,
        engine: { id: opened.engine.id, role: opened.role.name, maxTtl: opened.bounds.maxTtl },
      };
    },
  };
}
