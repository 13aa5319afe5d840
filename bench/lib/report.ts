/** What every part hands back, and how the report prints it: measured value beside its budget, PASS or OVER. */

export interface Budget {
  /** The figure must be at most this... */
  max?: number;
  /** ...or at least this. */
  min?: number;
  /** How the budget reads in the report, e.g. "≤ 3 WU". */
  text: string;
}

export interface Row {
  label: string;
  /** The number the budget is checked against; null when it could not be measured. */
  value: number | null;
  /** How the measured value reads, e.g. "3 WU (mean 3.0)". */
  shown: string;
  /** No budget: an informational figure. */
  budget?: Budget;
}

export interface PartResult {
  part: string;
  title: string;
  rows: Row[];
  notes: string[];
  /** Raw figures, kept in .parley/bench.json. */
  details?: unknown;
}

export type Verdict = 'PASS' | 'OVER' | 'n/a' | '';

export const verdictOf = (row: Row): Verdict => {
  if (!row.budget) return '';
  if (row.value === null || !Number.isFinite(row.value)) return 'n/a';
  if (row.budget.max !== undefined && row.value > row.budget.max + 1e-9) return 'OVER';
  if (row.budget.min !== undefined && row.value < row.budget.min - 1e-9) return 'OVER';
  return 'PASS';
};

export const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => {
    if (sorted.length === 0) return Number.NaN;
    const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
    return sorted[index] as number;
  };
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
    p50: median(sorted),
    p90: at(0.9),
    p99: at(0.99),
  };
};

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** A number without trailing noise: 3, 0.5, 1.25, 12.3. */
export const num = (value: number, digits = 2): string => {
  if (!Number.isFinite(value)) return String(value);
  return Number(value.toFixed(digits)).toString();
};

const pad = (text: string, width: number) => text + ' '.repeat(Math.max(0, width - [...text].length));

/** A plain-text table; columns sized to their content. */
export const table = (header: string[], lines: string[][]): string => {
  const widths = header.map((h, i) => Math.max([...h].length, ...lines.map((line) => [...(line[i] ?? '')].length)));
  const render = (cells: string[]) =>
    `  ${cells
      .map((cell, i) => pad(cell, widths[i] ?? 0))
      .join('  ')
      .trimEnd()}`;
  const rule = `  ${widths.map((w) => '-'.repeat(w)).join('  ')}`;
  return [render(header), rule, ...lines.map(render)].join('\n');
};

export const renderPart = (result: PartResult): string => {
  const lines = result.rows.map((row) => [row.label, row.shown, row.budget?.text ?? '(info)', verdictOf(row)]);
  const out = [`${result.part}. ${result.title}`, table(['figure', 'measured', 'budget', 'verdict'], lines)];
  for (const note of result.notes) out.push(`  - ${note}`);
  return out.join('\n');
};
