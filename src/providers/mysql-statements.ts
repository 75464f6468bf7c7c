/**
 * Splits MySQL text into statements on top-level `;`: not inside '…', "…" or `…` quotes
 * (backslash and doubled-quote escapes, as in MySQL's default sql_mode) nor inside comments
 * (`-- `, `#`, `/* … *\/`). Pieces that hold only whitespace and comments are dropped.
 * Compound statements whose body holds `;` (BEGIN … END, DELIMITER) are not supported.
 * Throws an Error naming the problem for an unterminated quote or comment.
 */
export function splitMysqlStatements(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let hasCode = false;
  const push = (end: number) => {
    if (hasCode) out.push(text.slice(start, end).trim());
    start = end + 1;
    hasCode = false;
  };
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    const next = text[i + 1];
    if (ch === "'" || ch === '"' || ch === "`") {
      i = skipQuoted(text, i);
      hasCode = true;
    } else if (ch === "#" || (ch === "-" && next === "-" && (i + 2 >= text.length || /\s/.test(text[i + 2] as string)))) {
      const eol = text.indexOf("\n", i);
      i = eol === -1 ? text.length : eol + 1;
    } else if (ch === "/" && next === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end === -1) throw new Error("unterminated /* comment");
      if (text[i + 2] === "!" || text[i + 2] === "+") hasCode = true; // executable comment, optimizer hint
      i = end + 2;
    } else {
      if (ch === ";") push(i);
      else if (!/\s/.test(ch)) hasCode = true;
      i++;
    }
  }
  push(text.length);
  return out;
}

/** Index just past the quoted token starting at `open`. */
function skipQuoted(text: string, open: number): number {
  const q = text[open];
  let i = open + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === "\\" && q !== "`") i += 2;
    else if (c === q && text[i + 1] === q) i += 2;
    else if (c === q) return i + 1;
    else i++;
  }
  throw new Error(`unterminated ${q} quote`);
}
