import type { EnvironmentRecord } from "../apps/repository.js";
import { exactKeyDigest } from "../crypto/digest.js";
import type { EnvironmentKeys } from "../crypto/envelope.js";
import { splitPathAndKey } from "./paths.js";

/**
 * Phase's secret references, resolved server-side in returned values:
 *   ${KEY}  ${/path/KEY}  ${folder/KEY}          same environment (no path means `/`)
 *   ${env.KEY}  ${env./path/KEY}                another environment of the same app
 *   ${app::env.KEY}  ${app::env./path/KEY}      another app
 * App and environment names match case-insensitively; key names case-sensitively (the digest is
 * taken without upper-casing). Anything missing, ambiguous, circular or deeper than 25 levels is
 * left verbatim; a reference into an environment the caller cannot access stops resolution and
 * leaves the rest of the value as it is. `${{...}}` (Railway syntax) is not a reference.
 */
export const MAX_REFERENCE_DEPTH = 25;
/** Upper bound on expansions per request, so a crafted reference graph cannot burn the CPU. */
const MAX_EXPANSIONS = 10_000;
const REFERENCE = /\$\{(?!\{)([^{}]+)\}/g;

export interface ReferenceSources {
  /** Apps whose name matches case-insensitively. */
  findAppsByName(name: string): Promise<{ id: string }[]>;
  findEnvironmentByName(appId: string, name: string): Promise<EnvironmentRecord | null>;
  /** The decrypted value of the live secret at (environment, path, digest), or null. */
  findValue(env: EnvironmentRecord, keys: EnvironmentKeys, path: string, keyDigest: string): Promise<string | null>;
  canAccess(environmentId: string): Promise<boolean>;
  unwrap(env: EnvironmentRecord): EnvironmentKeys;
}

interface Target {
  app?: string;
  env?: string;
  ref: string;
}

export function parseReference(inner: string): Target | null {
  if (inner.includes("::")) {
    const m = /^(.+?)::(.+?)\.(.+)$/s.exec(inner);
    return m ? { app: m[1]!, env: m[2]!, ref: m[3]! } : null;
  }
  const dot = inner.indexOf(".");
  if (dot === 0 || dot === inner.length - 1) return null;
  return dot > 0 ? { env: inner.slice(0, dot), ref: inner.slice(dot + 1) } : { ref: inner };
}

const nodeId = (environmentId: string, path: string, keyDigest: string) => `${environmentId}|${path}|${keyDigest}`;

interface Walked {
  text: string;
  /** False when a cycle or the depth limit cut something short: the text depends on the walk. */
  clean: boolean;
}

/** One resolver per request: environments, access answers and values are cached for its lifetime. */
export function createReferenceResolver(src: ReferenceSources) {
  const apps = new Map<string, Promise<string | null>>();
  const envs = new Map<string, Promise<EnvironmentRecord | null>>();
  const access = new Map<string, Promise<boolean>>();
  const values = new Map<string, Promise<string | null>>();
  const resolved = new Map<string, string>();
  let expansions = 0;

  const memo = <T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> => {
    let hit = cache.get(key);
    if (!hit) cache.set(key, (hit = load()));
    return hit;
  };

  const appId = (name: string) =>
    memo(apps, name.toLowerCase(), async () => {
      const found = await src.findAppsByName(name);
      return found.length === 1 ? found[0]!.id : null;
    });

  const envByName = (inApp: string, name: string) =>
    memo(envs, `${inApp}|${name.toLowerCase()}`, () => src.findEnvironmentByName(inApp, name));

  async function targetEnvironment(t: Target, from: EnvironmentRecord): Promise<EnvironmentRecord | null> {
    if (t.app !== undefined) {
      const id = await appId(t.app);
      return id ? envByName(id, t.env!) : null;
    }
    return t.env !== undefined ? envByName(from.appId, t.env) : from;
  }

  async function walk(value: string, env: EnvironmentRecord, stack: string[]): Promise<Walked> {
    if (!value.includes("${")) return { text: value, clean: true };
    let out = "";
    let last = 0;
    let clean = true;
    for (const m of value.matchAll(REFERENCE)) {
      const target = parseReference(m[1]!);
      if (!target) continue;
      const targetEnv = await targetEnvironment(target, env);
      if (!targetEnv) continue;
      if (!(await memo(access, targetEnv.id, () => src.canAccess(targetEnv.id)))) {
        return { text: out + value.slice(last), clean };
      }
      const { path, key } = splitPathAndKey(target.ref);
      if (key === "") continue;
      const keys = src.unwrap(targetEnv);
      const digest = exactKeyDigest(key, keys.salt);
      const node = nodeId(targetEnv.id, path, digest);
      if (stack.includes(node) || stack.length > MAX_REFERENCE_DEPTH || ++expansions > MAX_EXPANSIONS) {
        clean = false;
        continue;
      }
      let text = resolved.get(node);
      if (text === undefined) {
        const raw = await memo(values, node, () => src.findValue(targetEnv, keys, path, digest));
        if (raw === null) continue;
        const inner = await walk(raw, targetEnv, [...stack, node]);
        if (inner.clean) resolved.set(node, inner.text);
        else clean = false;
        text = inner.text;
      }
      out += value.slice(last, m.index) + text;
      last = m.index + m[0].length;
    }
    return { text: out + value.slice(last), clean };
  }

  return {
    /** Seeds the value cache with a secret already decrypted (its stored digest). */
    prime(environmentId: string, path: string, keyDigest: string, value: string): void {
      values.set(nodeId(environmentId, path, keyDigest), Promise.resolve(value));
    },

    /** Resolves `value`, which belongs to the secret at (env, path, keyDigest) (the cycle's start). */
    async resolve(value: string, env: EnvironmentRecord, path: string, keyDigest: string): Promise<string> {
      if (!value.includes("${")) return value;
      access.set(env.id, Promise.resolve(true));
      return (await walk(value, env, [nodeId(env.id, path, keyDigest)])).text;
    },
  };
}

export type ReferenceResolver = ReturnType<typeof createReferenceResolver>;
