/**
 * Parser for PrefLib "soc" files (strict orders, complete): `# KEY: value`
 * metadata lines, then `COUNT: a,b,c,...` lines, alternatives numbered from 1.
 */
export type SocData = {
  alternatives: { number: number; name: string }[];
  /** One ranking per voter (counts expanded), alternatives most preferred first. */
  voters: number[][];
  metadata: Record<string, string>;
};

export class SocParseError extends Error {
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = "SocParseError";
  }
}

export function parseSoc(text: string): SocData {
  const metadata: Record<string, string> = {};
  const names = new Map<number, string>();
  const voters: number[][] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const lineNumber = index + 1;
    const line = raw.trim();
    if (line === "") return;
    if (line.startsWith("#")) {
      const match = /^#\s*([^:]+):\s*(.*)$/.exec(line);
      if (!match) return;
      const [, key, value] = match;
      const alternative = /^ALTERNATIVE NAME (\d+)$/.exec(key.trim());
      if (alternative) names.set(Number(alternative[1]), value.trim());
      else metadata[key.trim()] = value.trim();
      return;
    }
    const match = /^(\d+)\s*:\s*(.+)$/.exec(line);
    if (!match) throw new SocParseError(lineNumber, `expected "COUNT: a,b,c", got "${line}"`);
    const count = Number(match[1]);
    const order = match[2].split(",").map((part) => Number(part.trim()));
    if (order.some((value) => !Number.isInteger(value) || value < 1)) {
      throw new SocParseError(lineNumber, "alternatives must be whole numbers from 1");
    }
    if (new Set(order).size !== order.length) throw new SocParseError(lineNumber, "an alternative appears twice");
    for (let copy = 0; copy < count; copy++) voters.push(order);
  });
  const declared = Number(metadata["NUMBER ALTERNATIVES"] ?? names.size);
  for (let number = 1; number <= declared; number++) if (!names.has(number)) names.set(number, `Alternative ${number}`);
  for (const order of voters) {
    const outside = order.find((value) => value > declared);
    if (outside !== undefined) throw new SocParseError(0, `alternative ${outside} is not declared`);
  }
  const declaredVoters = metadata["NUMBER VOTERS"];
  if (declaredVoters !== undefined && Number(declaredVoters) !== voters.length) {
    throw new SocParseError(0, `NUMBER VOTERS says ${declaredVoters} but the file lists ${voters.length}`);
  }
  return {
    alternatives: [...names.entries()].sort((a, b) => a[0] - b[0]).map(([number, name]) => ({ number, name })),
    voters,
    metadata,
  };
}
