import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../src/paths.js";

/**
 * The embedded database has one connection: a query on the outer client inside
 * `prisma.$transaction(async (tx) => ...)` waits for the transaction, which waits for the query,
 * until the transaction times out (real PostgreSQL hides the bug). This scans src/ for interactive
 * transactions (Prisma's `$transaction` and repository wrappers named `transaction`) and fails on
 * any reference to an outer client (`prisma`, `deps.prisma`, `db.prisma`) inside the callback, and
 * on any `await` of something other than the transaction's own client (an outer repository call).
 */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === "generated" ? [] : sourceFiles(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

/** The text of the block starting at the '{' at `open`, matching braces (ignores braces in strings; good enough for our code). */
function block(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return text.slice(open, i + 1);
  }
  throw new Error("unbalanced braces");
}

function findOuterClientUse(text: string): { param: string; offenders: string[] }[] {
  const found: { param: string; offenders: string[] }[] = [];
  const start = /\.\$?transaction\(\s*(?:async\s*)?\(?\s*(\w+)[^)=]*\)?\s*=>\s*/g;
  for (const m of text.matchAll(start)) {
    const param = m[1]!;
    const bodyStart = m.index + m[0].length;
    const body = text[bodyStart] === "{" ? block(text, bodyStart) : text.slice(bodyStart, text.indexOf("\n", bodyStart));
    const outerClient = [...body.matchAll(/(?<![\w.$])(?:(?:deps|db|this|opts|ctx)\.)?prisma\b/g)].map((x) => x[0]).filter((x) => x !== param);
    // An await is fine when it calls the transaction client or hands it on (`helper(tx, ...)`).
    const usesTx = new RegExp(`\\b${param}\\b`);
    const outerAwaits = [...body.matchAll(/\bawait\s+([\w.$]+)\s*(?:\(([^)]*))?/g)]
      .filter(([, callee, args]) => !callee!.startsWith(`${param}.`) && callee !== param && !usesTx.test(args ?? "") && !/\bprisma\b/.test(callee!))
      .map(([, callee]) => callee!);
    const offenders = [...outerClient, ...outerAwaits.map((x) => `await ${x}`)];
    found.push({ param, offenders });
  }
  return found;
}

describe("interactive transactions", () => {
  it("the scanner catches an outer-client query inside a transaction", () => {
    const bad = `await prisma.$transaction(async (tx) => {\n await tx.app.findMany();\n await deps.prisma.secret.count();\n});`;
    expect(findOuterClientUse(bad)).toEqual([{ param: "tx", offenders: ["deps.prisma"] }]);
    const good = `await opts.prisma.$transaction(async (tx) => {\n await tx.app.findMany();\n}, { timeout: 1 });`;
    const repo = `await deps.secrets.transaction(async (tx) => {\n await tx.lockLive(a);\n await deps.apps.findApp(b);\n});`;
    expect(findOuterClientUse(repo)).toEqual([{ param: "tx", offenders: ["await deps.apps.findApp"] }]);
    const helper = `prisma.$transaction(async (tx) => {\n await lockPath(tx, id);\n return keyTaken(tx, id);\n});`;
    expect(findOuterClientUse(helper)).toEqual([{ param: "tx", offenders: [] }]);
    expect(findOuterClientUse(good)).toEqual([{ param: "tx", offenders: [] }]);
    const arrow = `return prisma.$transaction((t) => run(prisma, t));`;
    expect(findOuterClientUse(arrow)).toEqual([{ param: "t", offenders: ["prisma"] }]);
    expect(findOuterClientUse(`await prisma.$transaction([a, b]);`)).toEqual([]);
  });

  it("in src/ use only their tx client", () => {
    const problems: string[] = [];
    let transactions = 0;
    for (const file of sourceFiles(join(PROJECT_ROOT, "src"))) {
      for (const tx of findOuterClientUse(readFileSync(file, "utf8"))) {
        transactions++;
        if (tx.offenders.length > 0) problems.push(`${relative(PROJECT_ROOT, file)}: uses ${tx.offenders.join(", ")} inside $transaction (use ${tx.param})`);
      }
    }
    expect(problems).toEqual([]);
    expect(transactions).toBeGreaterThan(0); // src/keys/rotation.ts has one at least: the scanner does find them
  });
});
