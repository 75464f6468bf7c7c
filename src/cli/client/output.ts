/** stdout for results, stderr for everything else (so `export > .env` stays clean). */
export const out = (text: string) => void process.stdout.write(text);
export const note = (text: string) => void process.stderr.write(`leasehold: ${text}\n`);

/** Warns about keys left out because the output format (or the OS environment) cannot carry them. */
export function warnSkipped(skipped: string[], why: string): void {
  if (skipped.length) note(`skipped ${skipped.length === 1 ? "key" : "keys"} ${skipped.map((k) => JSON.stringify(k)).join(", ")}: ${why}`);
}
