import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { configSchema } from "../../src/config.js";
import { PROJECT_ROOT } from "../../src/paths.js";
import { envPairs, parseDockerfile, type Stage } from "./dockerfile.js";

// What can be checked without a Docker engine. `docker compose config -q` runs in .ci/run, and
// deploy/check-image-layout.sh runs the Dockerfile's stages by hand.
const read = (file: string) => readFileSync(join(PROJECT_ROOT, file), "utf8");

interface Service {
  image?: string;
  build?: string;
  profiles?: string[];
  environment?: Record<string, string>;
  env_file?: string;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  [key: string]: unknown;
}
const compose = parse(read("docker-compose.yml")) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const tlsOverride = parse(read("docker-compose.tls.yml")) as { services: Record<string, Service> };
const dockerfile = parseDockerfile(read("Dockerfile"));
const runtime = dockerfile.stages.at(-1) as Stage;
const args = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
const envExample = read(".env.example");
const documented = (name: string) => new RegExp(`^#? ?${name}=`, "m").test(envExample);
const SECRET_NAME = /KEY|TOKEN|PASSWORD|SECRET|DATABASE_URL/;

describe("Dockerfile", () => {
  it("builds in stages and runs on the current Node LTS, slim", () => {
    expect(dockerfile.stages.map((s) => s.name)).toEqual(["deps", "build", "runtime"]);
    expect(runtime.base).toBe("node:24-bookworm-slim");
    expect(dockerfile.stages.every((s) => s.base === runtime.base)).toBe(true);
  });

  it("runs node directly as the unprivileged node user, with a health check on /healthz", () => {
    expect(args(runtime, "USER")).toEqual(["node"]);
    const order = runtime.instructions.map((i) => i.keyword);
    expect(order.indexOf("USER")).toBeLessThan(order.indexOf("CMD"));
    expect(args(runtime, "CMD").map((a) => JSON.parse(a) as unknown)).toEqual([["node", "dist/src/cli/index.js", "serve"]]);
    expect(args(runtime, "STOPSIGNAL")).toEqual(["SIGTERM"]);
    expect(args(runtime, "EXPOSE")).toEqual(["8080"]);
    const [healthcheck = ""] = args(runtime, "HEALTHCHECK");
    expect(healthcheck).toMatch(/CMD \["node", "deploy\/healthcheck\.cjs"\]$/);
    expect(read("deploy/healthcheck.cjs")).toContain('path: "/healthz"');
    const env = new Map(args(runtime, "ENV").flatMap((a) => [...envPairs(a)]));
    expect(Object.fromEntries(env)).toEqual({
      NODE_ENV: "production",
      HOST: "0.0.0.0",
      PORT: "8080",
      LEASEHOLD_DATA_DIR: "/var/lib/leasehold",
    });
  });

  it("ships the migrations the server applies at start, next to package.json (src/paths.ts)", () => {
    const copies = args(runtime, "COPY");
    expect(copies).toContain("prisma/migrations ./prisma/migrations");
    expect(copies).toContain("package.json package-lock.json ./");
    expect(copies).toContain("--from=build /app/dist/src ./dist/src");
    expect(copies).toContain("--from=deps /app/node_modules ./node_modules");
  });

  it("bakes in no secrets and copies nothing but named files from the context", () => {
    const declared = dockerfile.all
      .filter((i) => i.keyword === "ARG" || i.keyword === "ENV")
      .flatMap((i) => (i.keyword === "ENV" ? [...envPairs(i.args).keys()] : [i.args.split("=")[0]!]));
    expect(declared.filter((n) => SECRET_NAME.test(n))).toEqual([]);
    for (const copy of dockerfile.all.filter((i) => i.keyword === "COPY" && !i.args.startsWith("--from"))) {
      const sources = copy.args.split(/\s+/).slice(0, -1);
      expect(sources.filter((s) => s === "." || s.startsWith(".env") || s.startsWith(".leasehold"))).toEqual([]);
      for (const s of sources) expect(existsSync(join(PROJECT_ROOT, s)), s).toBe(true);
    }
  });

  it(".dockerignore keeps local state, secrets and build output out of the context", () => {
    const ignored = read(".dockerignore").split("\n").map((l) => l.trim());
    for (const p of [".env", ".leasehold", "node_modules", "dist", "src/generated", ".git", "bench", "test", "tls", "*.pem", "*.key"]) {
      expect(ignored, p).toContain(p);
    }
  });
});

describe("docker-compose.yml", () => {
  const { postgres, leasehold, redis } = compose.services as Record<string, Service>;

  it("keeps PostgreSQL on a volume and starts Leasehold only once it is healthy", () => {
    expect(postgres!.volumes).toEqual(["pgdata:/var/lib/postgresql/data"]);
    expect(compose.volumes).toHaveProperty("pgdata");
    expect(postgres!.healthcheck!.test.join(" ")).toContain("pg_isready");
    expect(postgres!.ports).toBeUndefined();
    expect(leasehold!.depends_on).toEqual({ postgres: { condition: "service_healthy" } });
    expect(leasehold!.build).toBe(".");
    expect(leasehold!.env_file).toBe(".env");
  });

  it("requires the master key and the database password from .env, with no default", () => {
    const env = leasehold!.environment!;
    expect(env["LEASEHOLD_MASTER_KEY"]).toMatch(/^\$\{LEASEHOLD_MASTER_KEY:\?[^}]+\}$/);
    expect(postgres!.environment!["POSTGRES_PASSWORD"]).toMatch(/^\$\{POSTGRES_PASSWORD:\?[^}]+\}$/);
    expect(env["DATABASE_URL"]).toBe(
      "postgresql://${POSTGRES_USER:-leasehold}:${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}@postgres:5432/${POSTGRES_DB:-leasehold}",
    );
  });

  it("holds no secret value and gives no secret a default", () => {
    for (const file of ["docker-compose.yml", "docker-compose.tls.yml", "Dockerfile"]) {
      const text = read(file);
      expect(text, file).not.toMatch(/[A-Za-z0-9+/]{43}=/); // a base64 master key
      expect(text, file).not.toMatch(/\b[0-9a-f]{48,}\b/); // a hex token or password
      const defaults = [...text.matchAll(/\$\{(\w+):?-/g)].map((m) => m[1]!);
      expect(defaults.filter((n) => SECRET_NAME.test(n)), file).toEqual([]);
    }
  });

  it("runs Leasehold locked down: read-only root, no capabilities, no privilege gain, an init", () => {
    expect(leasehold).toMatchObject({
      read_only: true,
      tmpfs: ["/tmp"],
      cap_drop: ["ALL"],
      security_opt: ["no-new-privileges:true"],
      init: true,
      restart: "unless-stopped",
      ports: ["${LEASEHOLD_PUBLISH:-127.0.0.1:8080}:8080"],
    });
  });

  it("offers Redis under a profile, without making Leasehold wait for it", () => {
    expect(redis!.profiles).toEqual(["redis"]);
    expect(Object.keys(leasehold!.depends_on!)).toEqual(["postgres"]);
  });

  it("passes only known configuration variables, each documented in .env.example", () => {
    const known = new Set(Object.keys(configSchema.shape));
    const passed = [
      ...Object.keys(leasehold!.environment!),
      ...Object.keys(tlsOverride.services["leasehold"]!.environment!),
    ];
    expect(passed.filter((n) => !known.has(n))).toEqual([]);
    expect(passed.filter((n) => !documented(n))).toEqual([]);
  });

  it("documents every variable it reads from .env in .env.example", () => {
    const text = read("docker-compose.yml") + read("docker-compose.tls.yml");
    const interpolated = new Set([...text.matchAll(/(?<!\$)\$\{(\w+)/g)].map((m) => m[1]!));
    expect([...interpolated].sort()).toEqual([
      "LEASEHOLD_MASTER_KEY",
      "LEASEHOLD_PUBLISH",
      "LEASEHOLD_TLS_DIR",
      "POSTGRES_DB",
      "POSTGRES_PASSWORD",
      "POSTGRES_USER",
    ]);
    expect([...interpolated].filter((n) => !documented(n))).toEqual([]);
  });

  it("TLS override mounts the certificate folder read-only and points the server at it", () => {
    const service = tlsOverride.services["leasehold"]!;
    expect(service.volumes).toEqual(["${LEASEHOLD_TLS_DIR:-./tls}:/etc/leasehold/tls:ro"]);
    expect(service.environment).toEqual({
      TLS_CERT_FILE: "/etc/leasehold/tls/cert.pem",
      TLS_KEY_FILE: "/etc/leasehold/tls/key.pem",
    });
  });
});
