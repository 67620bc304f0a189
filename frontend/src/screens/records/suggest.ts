// Suggestions of the entry form's code fields (issue 20): the active lines or
// products whose code or name holds the typed text, "P-300 · Flour".

export interface CodeOption {
  code: string;
  name: string;
}

/** suggestCodes lists up to max options for the typed text: codes that start
 * with it first, then codes and names that contain it (any case). An empty
 * text offers nothing (the field just got the focus: a scan comes next), nor
 * does a code typed or scanned whole (its name is the field's hint). */
export function suggestCodes(options: CodeOption[], typed: string, max = 4): CodeOption[] {
  const q = typed.trim().toLowerCase();
  if (!q || options.some((o) => o.code === typed.trim())) return [];
  const starts = options.filter((o) => o.code.toLowerCase().startsWith(q));
  const contains = options.filter((o) => !starts.includes(o) && (o.code.toLowerCase().includes(q) || o.name.toLowerCase().includes(q)));
  return [...starts, ...contains].slice(0, max);
}
