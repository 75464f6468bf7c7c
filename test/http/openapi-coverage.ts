import type { RegisteredRoute } from "../../src/http/openapi.js";

type Operation = Record<string, unknown> & { summary?: string };
export type Doc = { paths: Record<string, Record<string, Operation>> };

/** `:param` (with an optional regex) → `{param}`, as OpenAPI writes path templates. */
const template = (url: string) => url.replace(/:(\w+)(\([^)]*\))?/g, "{$1}");

/** Routes that serve the documentation itself: swagger-ui's page, assets and its copy of the document. */
const isDocsRoute = (url: string) => url === "/openapi.json" || url === "/docs" || url.startsWith("/docs/");

export interface Coverage {
  /** "METHOD url" of every registered route checked (HEAD duplicates and docs routes left out). */
  checked: string[];
  /** One line per problem, naming the route. Empty when every route is documented. */
  problems: string[];
}

/**
 * Every registered route must be an operation of the document, or a documented alias of one (listed
 * in its `x-leasehold-aliases`), or hidden with a stated reason. Left out: the docs' own routes and
 * the HEAD route Fastify adds beside each GET. Conversely every documented operation must be a
 * registered route.
 */
export function checkCoverage(routes: RegisteredRoute[], doc: Doc): Coverage {
  const problems: string[] = [];
  const checked: string[] = [];
  const expanded = routes.flatMap((r) => (Array.isArray(r.method) ? r.method : [r.method]).map((method) => ({ ...r, method })));
  const gets = new Set(expanded.filter((r) => r.method === "GET").map((r) => r.url));
  const documented = new Set<string>();

  for (const r of expanded) {
    if (isDocsRoute(r.url) || (r.method === "HEAD" && gets.has(r.url))) continue;
    const name = `${r.method} ${r.url}`;
    checked.push(name);
    const m = r.method.toLowerCase();
    if (r.openapi?.hidden !== undefined) {
      if (r.openapi.hidden.trim() === "") problems.push(`${name}: hidden without a reason`);
      continue;
    }
    if (r.openapi?.aliasOf !== undefined) {
      const op = doc.paths[template(r.openapi.aliasOf)]?.[m];
      if (!op) problems.push(`${name}: alias of ${r.method} ${r.openapi.aliasOf}, which is not in the document`);
      else if (!(op["x-leasehold-aliases"] as string[] | undefined)?.includes(template(r.url))) {
        problems.push(`${name}: not listed among the aliases of ${r.method} ${r.openapi.aliasOf}`);
      }
      continue;
    }
    if (r.hide) {
      problems.push(`${name}: schema.hide without a reason (use config.openapi.hidden or aliasOf)`);
      continue;
    }
    const op = doc.paths[template(r.url)]?.[m];
    if (!op) problems.push(`${name}: missing from the document`);
    else if (op["x-leasehold-schema-error"] !== undefined) {
      problems.push(`${name}: its schema could not be converted: ${String(op["x-leasehold-schema-error"])}`);
    }
    documented.add(`${m} ${template(r.url)}`);
  }

  for (const [path, item] of Object.entries(doc.paths)) {
    for (const m of Object.keys(item)) {
      if (!documented.has(`${m} ${path}`)) problems.push(`${m.toUpperCase()} ${path}: in the document but not a registered route`);
    }
  }
  return { checked, problems };
}
