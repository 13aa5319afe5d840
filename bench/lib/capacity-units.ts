/**
 * DynamoDB's billing rules, applied to the wire-format items a recorded request wrote or read (dynalite reports
 * no GSI writes and sizes strings in UTF-16 units, so the bench counts everything itself).
 *
 * Item size: the sum over attributes of (UTF-8 length of the name + size of the value), where a string is its
 * UTF-8 length, binary its byte length, a number about one byte per two significant digits plus one, null and
 * booleans one byte, a list or map 3 bytes plus, per element, 1 byte plus the element (and, for a map, the
 * element's name), a set the sum of its elements.
 *
 * Writes: 1 WU per started KB of the larger of the item before and after (PutItem, UpdateItem, DeleteItem);
 * a failed conditional write still bills the existing item's size, at least 1 WU. Each GSI whose key attributes the
 * old or new image carries costs one write per started KB of the index entry when the entry appears, disappears or
 * any projected attribute changes, and two (delete + put) when its key changes.
 * Reads: per started 4 KB, 1 RU strongly consistent, 0.5 RU eventually consistent (GSI reads always are); a Query
 * sums the sizes of the items it read before rounding; a read that finds nothing still costs one unit.
 */

export type AttributeValue = {
  S?: string;
  N?: string;
  B?: string;
  SS?: string[];
  NS?: string[];
  BS?: string[];
  M?: Record<string, AttributeValue>;
  L?: AttributeValue[];
  NULL?: boolean;
  BOOL?: boolean;
};
export type WireItem = Record<string, AttributeValue>;

export interface IndexSpec {
  indexName: string;
  partitionKey: string;
  sortKey: string;
}

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/** Bytes DynamoDB stores for a number: base-100 digit pairs aligned on the decimal point, plus one. */
export const numberSize = (text: string): number => {
  let s = text.trim();
  let negative = false;
  if (s.startsWith('-')) {
    negative = true;
    s = s.slice(1);
  } else if (s.startsWith('+')) s = s.slice(1);
  let exponent = 0;
  const e = s.search(/e/i);
  if (e >= 0) {
    exponent = Number(s.slice(e + 1));
    s = s.slice(0, e);
  }
  const dot = s.indexOf('.');
  const whole = dot < 0 ? s : s.slice(0, dot);
  const fraction = dot < 0 ? '' : s.slice(dot + 1);
  const all = whole + fraction;
  const leading = (/^0*/.exec(all)?.[0] ?? '').length;
  const digits = all.slice(leading).replace(/0+$/, '');
  if (digits === '') return 1;
  // Power of ten of the first significant digit; a digit pair starts on an even power.
  const firstPower = whole.length - leading - 1 + exponent;
  const pairs = Math.ceil(digits.length / 2) + (digits.length % 2 !== 0 || firstPower % 2 !== 0 ? 0 : 1);
  return 1 + pairs + (negative ? 1 : 0);
};

export const valueSize = (value: AttributeValue): number => {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return Buffer.from(value.B, 'base64').length;
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + utf8(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + numberSize(n), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, b) => sum + Buffer.from(b, 'base64').length, 0);
  if (value.NULL !== undefined || value.BOOL !== undefined) return 1;
  if (value.L !== undefined) return 3 + value.L.reduce((sum, v) => sum + 1 + valueSize(v), 0);
  if (value.M !== undefined) {
    return 3 + Object.entries(value.M).reduce((sum, [name, v]) => sum + 1 + utf8(name) + valueSize(v), 0);
  }
  throw new Error(`Unknown attribute value ${JSON.stringify(value)}`);
};

export const itemSize = (item: WireItem | undefined): number =>
  item === undefined ? 0 : Object.entries(item).reduce((sum, [name, value]) => sum + utf8(name) + valueSize(value), 0);

export const writeUnitsFor = (bytes: number): number => Math.max(1, Math.ceil(bytes / 1024));

export const readUnitsFor = (bytes: number, consistent: boolean): number =>
  Math.max(1, Math.ceil(bytes / 4096)) * (consistent ? 1 : 0.5);

const canonical = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
};

export const sameItem = (a: WireItem | undefined, b: WireItem | undefined): boolean =>
  (a === undefined) === (b === undefined) && canonical(a) === canonical(b);

const indexKeyOf = (item: WireItem | undefined, index: IndexSpec): string | undefined => {
  const pk = item?.[index.partitionKey];
  const sk = item?.[index.sortKey];
  return pk === undefined || sk === undefined ? undefined : canonical([pk, sk]);
};

export interface IndexWrite {
  indexName: string;
  units: number;
  kind: 'put' | 'delete' | 'update' | 'move';
}

/** The GSI writes one successful item write causes (every index projects ALL attributes). */
export const indexWrites = (
  before: WireItem | undefined,
  after: WireItem | undefined,
  indexes: readonly IndexSpec[],
): IndexWrite[] => {
  const writes: IndexWrite[] = [];
  for (const index of indexes) {
    const oldKey = indexKeyOf(before, index);
    const newKey = indexKeyOf(after, index);
    const { indexName } = index;
    if (oldKey === undefined && newKey === undefined) continue;
    if (oldKey === undefined) writes.push({ indexName, kind: 'put', units: writeUnitsFor(itemSize(after)) });
    else if (newKey === undefined) writes.push({ indexName, kind: 'delete', units: writeUnitsFor(itemSize(before)) });
    else if (oldKey !== newKey) {
      writes.push({
        indexName,
        kind: 'move',
        units: writeUnitsFor(itemSize(before)) + writeUnitsFor(itemSize(after)),
      });
    } else if (!sameItem(before, after)) {
      writes.push({
        indexName,
        kind: 'update',
        units: writeUnitsFor(Math.max(itemSize(before), itemSize(after))),
      });
    }
  }
  return writes;
};
