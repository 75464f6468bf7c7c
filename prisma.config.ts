import { defineConfig } from "prisma/config";

// `prisma generate`, `validate` and `format` never execute the schema engine, but the CLI
// insists on downloading it first unless PRISMA_SCHEMA_ENGINE_BINARY names an existing file.
// Our machines are offline, so point it at the node binary for those three commands only.
// Migrations are applied by our own migrator (src/db/migrator.ts), never by the Prisma CLI here.
const offlineSafe = process.argv.slice(2).some((a) => ["generate", "validate", "format"].includes(a));
if (offlineSafe && !process.env.PRISMA_SCHEMA_ENGINE_BINARY) {
  process.env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath;
}

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/leasehold" },
});
