/** Label and field selectors, as list and watch requests send them (`a=b,c!=d,e in (x,y),f,!g`). */
import { StatusError } from './status.js';
import type { KObject, LabelSelectorSpec } from './types.js';

export type Requirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

/** Splits on the commas that are not inside `( … )`. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else current += ch;
  }
  terms.push(current);
  return terms.map((t) => t.trim()).filter((t) => t !== '');
}

function selectorError(text: string, why: string): StatusError {
  return new StatusError(400, 'BadRequest', `unable to parse requirement: ${why} in "${text}"`);
}

/** Parses a label selector string; throws a 400 Status error on a malformed one. */
export function parseLabelSelector(text: string | undefined): Requirement[] {
  if (!text) return [];
  return splitTerms(text).map((term) => {
    const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
    if (set) {
      const values = set[3]!
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      return { op: set[2] as 'in' | 'notin', key: set[1]!, values };
    }
    const eq = /^([^!=\s]+)\s*(==|=|!=)\s*([^\s=!]*)$/.exec(term);
    if (eq) return { op: eq[2] === '!=' ? 'neq' : 'eq', key: eq[1]!, value: eq[3]! };
    const not = /^!\s*([^\s=!]+)$/.exec(term);
    if (not) return { op: 'notexists', key: not[1]! };
    if (/^[^\s=!(),]+$/.test(term)) return { op: 'exists', key: term };
    throw selectorError(text, `cannot parse "${term}"`);
  });
}

/** Whether a label set satisfies every requirement (an empty selector matches everything). */
export function matchesLabels(
  reqs: readonly Requirement[],
  labels: Record<string, string> | undefined,
): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'eq':
        return has && l[r.key] === r.value;
      case 'neq':
        return !has || l[r.key] !== r.value;
      case 'in':
        return has && r.values.includes(l[r.key]!);
      case 'notin':
        return !has || !r.values.includes(l[r.key]!);
      case 'exists':
        return has;
      case 'notexists':
        return !has;
    }
  });
}

/** A `LabelSelector` object (matchLabels + matchExpressions), as a ReplicaSet's spec holds it. */
export function requirementsOf(sel: LabelSelectorSpec | undefined): Requirement[] {
  const reqs: Requirement[] = Object.entries(sel?.matchLabels ?? {}).map(([key, value]) => ({
    op: 'eq' as const,
    key,
    value,
  }));
  for (const e of sel?.matchExpressions ?? []) {
    if (e.operator === 'In') reqs.push({ op: 'in', key: e.key, values: e.values ?? [] });
    else if (e.operator === 'NotIn') reqs.push({ op: 'notin', key: e.key, values: e.values ?? [] });
    else if (e.operator === 'Exists') reqs.push({ op: 'exists', key: e.key });
    else reqs.push({ op: 'notexists', key: e.key });
  }
  return reqs;
}

/** The string form of a LabelSelector object (`a=b,c in (x)`), as a Scale's status carries it. */
export function formatSelector(sel: LabelSelectorSpec | undefined): string {
  return requirementsOf(sel)
    .map((r) => {
      switch (r.op) {
        case 'eq':
          return `${r.key}=${r.value}`;
        case 'neq':
          return `${r.key}!=${r.value}`;
        case 'in':
        case 'notin':
          return `${r.key} ${r.op} (${r.values.join(',')})`;
        case 'exists':
          return r.key;
        case 'notexists':
          return `!${r.key}`;
      }
    })
    .join(',');
}

export interface FieldRequirement {
  path: string;
  negate: boolean;
  value: string;
}

/** Parses a field selector (`metadata.name=x,status.phase!=Running`). */
export function parseFieldSelector(text: string | undefined): FieldRequirement[] {
  if (!text) return [];
  return splitTerms(text).map((term) => {
    const m = /^([^!=\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw selectorError(text, `cannot parse "${term}"`);
    return { path: m[1]!, negate: m[2] === '!=', value: m[3]!.trim() };
  });
}

function fieldValue(obj: KObject, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur === undefined || cur === null ? '' : String(cur);
}

/** Whether an object's fields satisfy a field selector (any dotted path; missing fields are ''). */
export function matchesFields(reqs: readonly FieldRequirement[], obj: KObject): boolean {
  return reqs.every((r) => (fieldValue(obj, r.path) === r.value) !== r.negate);
}
