/**
 * The benchmark's baseline: the same 50 rows read with pg and returned as JSON, with no
 * authentication, no access checks, no decryption and no audit. Each sealed field is returned as
 * base64 cut to the plaintext's length (blob length minus the 41-byte envelope), so the body has
 * the size of Leasehold's for ASCII secrets. Env: DATABASE_URL, ENVIRONMENT_ID, HOST, PORT.
 */
import Fastify from "fastify";
import pg from "pg";

const ENVELOPE_BYTES = 1 + 24 + 16; // version byte, nonce, Poly1305 tag (src/crypto/aead.ts)
const environmentId = process.env["ENVIRONMENT_ID"];
if (!environmentId) throw new Error("ENVIRONMENT_ID is required");

const pool = new pg.Pool({ connectionString: process.env["DATABASE_URL"], max: 10 });
const app = Fastify({ logger: false });

const asText = (blob: Buffer) => blob.toString("base64").slice(0, Math.max(0, blob.length - ENVELOPE_BYTES));

interface Row {
  id: string;
  key_cipher: Buffer;
  value_cipher: Buffer;
  comment_cipher: Buffer;
  type: string;
  path: string;
  key_digest: string;
  version: number;
  created_at: Date;
  updated_at: Date;
  environment_id: string;
  folder_id: string | null;
}

app.get("/", async () => ({ status: "ok" }));
app.get("/v1/secrets/", async () => {
  const { rows } = await pool.query<Row>(
    `SELECT id, key_cipher, value_cipher, comment_cipher, type, path, key_digest, version, created_at, updated_at,
            environment_id, folder_id
       FROM secrets WHERE environment_id = $1 AND deleted_at IS NULL ORDER BY path, created_at`,
    [environmentId],
  );
  return rows.map((r) => ({
    id: r.id,
    key: asText(r.key_cipher),
    value: asText(r.value_cipher),
    comment: asText(r.comment_cipher),
    tags: [],
    override: null,
    type: r.type,
    lifecycle: "static",
    path: r.path,
    keyDigest: r.key_digest,
    version: r.version,
    createdAt: r.created_at.toISOString().replace("Z", "000Z"),
    updatedAt: r.updated_at.toISOString().replace("Z", "000Z"),
    environment: r.environment_id,
    folder: r.folder_id,
  }));
});

const stop = async () => {
  await app.close();
  await pool.end();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());

await app.listen({ host: process.env["HOST"] ?? "127.0.0.1", port: Number(process.env["PORT"] ?? 0) });
