/**
 * Phase's path rules (normalize_path_string): repeated slashes collapse, a leading `/` is added
 * and one trailing `/` is removed; `""` and `"/"` are the root. Nothing else is validated.
 */
export function normalizePath(path: string): string {
  let p = path.replace(/\/{2,}/g, "/");
  if (!p.startsWith("/")) p = `/${p}`;
  if (p.length > 1 && p.endsWith("/")) p = p.slice(0, -1);
  return p;
}

export const ROOT_PATH = "/";

/** The folder paths a normalised path needs, parents first: `/a/b` → [`/a`, `/a/b`]; `/` → []. */
export function folderChain(path: string): string[] {
  const chain: string[] = [];
  let current = "";
  for (const segment of path.split("/").slice(1)) {
    if (segment === "" && current === "") continue;
    current = `${current}/${segment}`;
    chain.push(current);
  }
  return chain;
}

/** Splits `a/b/KEY` on the last `/`: the (normalised) path and the key. */
export function splitPathAndKey(ref: string): { path: string; key: string } {
  const at = ref.lastIndexOf("/");
  if (at < 0) return { path: ROOT_PATH, key: ref };
  return { path: normalizePath(ref.slice(0, at)), key: ref.slice(at + 1) };
}
