/** A small Dockerfile reader for the deploy tests: instructions grouped by build stage. */
export interface Instruction {
  keyword: string;
  args: string;
}

export interface Stage {
  name: string | undefined;
  /** The FROM argument with ARG defaults substituted. */
  base: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  globalArgs: Map<string, string | undefined>;
  stages: Stage[];
  all: Instruction[];
}

export function parseDockerfile(text: string): Dockerfile {
  const logical: string[] = [];
  let current = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#") || (line === "" && current === "")) continue;
    if (line.endsWith("\\")) {
      current += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push((current + line).trim());
    current = "";
  }
  const globalArgs = new Map<string, string | undefined>();
  const stages: Stage[] = [];
  const all: Instruction[] = [];
  for (const line of logical.filter((l) => l !== "")) {
    const [, keyword = "", args = ""] = /^(\S+)\s*(.*)$/s.exec(line) ?? [];
    const ins = { keyword: keyword.toUpperCase(), args };
    all.push(ins);
    if (ins.keyword === "FROM") {
      const [image = "", , name] = args.split(/\s+/);
      const base = image.replace(/\$\{?(\w+)\}?/g, (_, v: string) => globalArgs.get(v) ?? "");
      stages.push({ name, base, instructions: [] });
    } else if (stages.length === 0 && ins.keyword === "ARG") {
      const [name = "", value] = args.split("=", 2);
      globalArgs.set(name, value);
    } else {
      stages.at(-1)?.instructions.push(ins);
    }
  }
  return { globalArgs, stages, all };
}

/** `KEY=value KEY2=value2` (ENV's form) as a map. */
export function envPairs(args: string): Map<string, string> {
  return new Map(
    args
      .split(/\s+/)
      .filter((p) => p.includes("="))
      .map((p) => p.split("=", 2) as [string, string]),
  );
}
