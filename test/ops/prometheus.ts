/** One sample of Prometheus' text format: `name{label="value",...} number`. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the exposition text (comments skipped); throws on a line it does not understand. */
export function parseMetrics(text: string): Sample[] {
  return text
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((line) => {
      const m = LINE.exec(line);
      if (!m) throw new Error(`not a sample line: ${line}`);
      const labels: Record<string, string> = {};
      for (const [, k, v] of (m[2] ?? "").matchAll(LABEL)) labels[k!] = v!.replace(/\\(.)/g, "$1");
      return { name: m[1]!, labels, value: Number(m[3]) };
    });
}

/** The samples named `name` whose labels include `labels`. */
export function samples(all: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return all.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The value of the one sample named `name` with exactly these labels; undefined when absent. */
export function value(all: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const keys = Object.keys(labels).sort().join(",");
  const hit = samples(all, name, labels).filter((s) => Object.keys(s.labels).sort().join(",") === keys);
  if (hit.length > 1) throw new Error(`${hit.length} samples of ${name} ${JSON.stringify(labels)}`);
  return hit[0]?.value;
}
