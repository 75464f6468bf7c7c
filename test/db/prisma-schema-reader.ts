/**
 * A small reader for the parts of prisma/schema.prisma the drift check compares with the database:
 * models, their table and column names (@@map/@map), scalar types, optionality, defaults, keys,
 * indexes and relations; and enums. It reads the file itself rather than the generated client, so a
 * stale `prisma generate` cannot hide drift.
 */
export interface SchemaField {
  name: string;
  column: string;
  type: string;
  list: boolean;
  optional: boolean;
  /** The native type attribute, e.g. "Uuid" or "Timestamptz". */
  nativeType: string | undefined;
  hasDefault: boolean;
  unique: boolean;
  id: boolean;
  relation?: { fields: string[]; references: string[]; onDelete: string | undefined };
}

export interface SchemaModel {
  name: string;
  table: string;
  /** Scalar (column) fields only. */
  columns: SchemaField[];
  /** Relation fields that own a foreign key (have `fields:`). */
  foreignKeys: SchemaField[];
  primaryKey: string[];
  uniques: string[][];
  indexes: string[][];
}

export interface PrismaSchema {
  models: SchemaModel[];
  enums: Map<string, string[]>;
}

const names = (list: string) => list.split(",").map((s) => s.trim()).filter(Boolean);

export function readPrismaSchema(text: string): PrismaSchema {
  const clean = text.replace(/\/\/.*$/gm, "");
  const blocks = [...clean.matchAll(/^(model|enum)\s+(\w+)\s*\{([\s\S]*?)^\}/gm)];
  const enums = new Map<string, string[]>();
  for (const [, kind, name, body] of blocks) {
    if (kind === "enum") enums.set(name!, body!.split("\n").map((l) => l.trim()).filter(Boolean));
  }
  const modelNames = new Set(blocks.filter((b) => b[1] === "model").map((b) => b[2]!));

  const models = blocks
    .filter((b) => b[1] === "model")
    .map(([, , name, body]): SchemaModel => {
      const lines = body!.split("\n").map((l) => l.trim()).filter(Boolean);
      const fields: SchemaField[] = [];
      const model: SchemaModel = { name: name!, table: name!, columns: [], foreignKeys: [], primaryKey: [], uniques: [], indexes: [] };
      for (const line of lines) {
        if (line.startsWith("@@")) {
          const attr = /^@@(\w+)\((.*)\)$/.exec(line);
          if (!attr) throw new Error(`unreadable block attribute: ${line}`);
          const [, kind, args] = attr;
          const list = /^\[([^\]]*)\]/.exec(args!)?.[1];
          if (kind === "map") model.table = /"([^"]+)"/.exec(args!)![1]!;
          else if (kind === "id") model.primaryKey = names(list!);
          else if (kind === "unique") model.uniques.push(names(list!));
          else if (kind === "index") model.indexes.push(names(list!));
          continue;
        }
        const m = /^(\w+)\s+(\w+)(\[\])?(\?)?\s*(.*)$/.exec(line);
        if (!m) throw new Error(`unreadable field: ${line}`);
        const [, fname, type, list, optional, attrs = ""] = m;
        const rel = /@relation\(([^)]*)\)/.exec(attrs)?.[1];
        const field: SchemaField = {
          name: fname!,
          column: /@map\("([^"]+)"\)/.exec(attrs)?.[1] ?? fname!,
          type: type!,
          list: Boolean(list),
          optional: Boolean(optional),
          nativeType: /@db\.(\w+)/.exec(attrs)?.[1],
          hasDefault: /@default\(/.test(attrs),
          unique: /@unique\b/.test(attrs),
          id: /@id\b/.test(attrs),
        };
        if (modelNames.has(type!)) {
          if (rel && /fields:/.test(rel)) {
            field.relation = {
              fields: names(/fields:\s*\[([^\]]*)\]/.exec(rel)![1]!),
              references: names(/references:\s*\[([^\]]*)\]/.exec(rel)![1]!),
              onDelete: /onDelete:\s*(\w+)/.exec(rel)?.[1],
            };
            model.foreignKeys.push(field);
          }
          continue; // relation fields have no column
        }
        fields.push(field);
      }
      model.columns = fields;
      const idField = fields.find((f) => f.id);
      if (idField) model.primaryKey = [idField.name];
      for (const f of fields.filter((x) => x.unique)) model.uniques.push([f.name]);
      return model;
    });
  return { models, enums };
}

/** Field names to column names within a model. */
export function columnsOf(model: SchemaModel, fieldNames: string[]): string[] {
  return fieldNames.map((n) => {
    const f = model.columns.find((c) => c.name === n);
    if (!f) throw new Error(`${model.name}.${n} is not a column`);
    return f.column;
  });
}
