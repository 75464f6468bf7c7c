/**
 * Summarises a V8 .cpuprofile (from BENCH_PROFILE=1): self time by function and by package or
 * source folder, and inclusive time of our own functions. Usage: tsx bench/profile-summary.ts <file>
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv[2];
if (!file) throw new Error("usage: tsx bench/profile-summary.ts <file.cpuprofile>");
const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Sample time per node (time deltas are attributed to the sample that follows them).
const selfUs = new Map<number, number>();
p.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

function where(url: string): string {
  if (!url) return "(native/v8)";
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + 13).split("/");
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith("node:")) return url;
  const src = url.indexOf("/src/");
  return src >= 0 ? url.slice(src + 1).split("/").slice(0, 2).join("/") : url;
}
const label = (n: Node) => `${n.callFrame.functionName || "(anonymous)"} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
const fnSelf = new Map<string, number>();
const groupSelf = new Map<string, number>();
const ownInclusive = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  add(fnSelf, label(n), us);
  add(groupSelf, where(n.callFrame.url), us);
  // Inclusive time of our own (src/) functions on this sample's stack, each counted once.
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const f = byId.get(cur)!;
    if (f.callFrame.url.includes("/src/") && !f.callFrame.url.includes("node_modules")) {
      const l = label(f);
      if (!seen.has(l)) add(ownInclusive, l, us), seen.add(l);
    }
  }
}

const show = (title: string, m: Map<string, number>, n: number) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(`  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
  }
};
console.log(`${file}: ${(total / 1e6).toFixed(1)} s of samples`);
show("self time by package / source folder", groupSelf, 20);
show("self time by function", fnSelf, 30);
show("inclusive time of our functions", ownInclusive, 30);
