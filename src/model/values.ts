/**
 * Value hygiene for measurements. The recording path never throws on a bad value:
 * it asks here whether the value is usable, and if not, drops it and counts why
 * (the way OTel's `Counter.add` ignores a negative increment with one warning).
 */
export type InvalidValueReason = 'not_a_number' | 'nan' | 'infinite' | 'negative' | 'too_large' | 'unknown_name' | 'unserializable' | 'not_a_trace_id';

/**
 * The most tokens one call (or one `tokensIn`/`tokensOut`) may report: 10^12, a million
 * times the largest context window sold today. Larger counts are not usage but a bug or
 * an attack, and summing a few of them (1e308) overflows every total to Infinity.
 */
export const MAX_TOKENS_PER_CALL = 1e12;

/** The most one call may cost, in USD. A reported or estimated cost above it is dropped. */
export const MAX_COST_PER_CALL_USD = 1e6;

/** Returns why `value` is not a usable non-negative measurement, or null when it is. */
export function invalidNonNegative(value: unknown): InvalidValueReason | null {
  if (typeof value !== 'number') return 'not_a_number';
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return 'infinite';
  if (value < 0) return 'negative';
  return null;
}

/** `invalidNonNegative`, and at most {@link MAX_TOKENS_PER_CALL}: a token count of one call. */
export function invalidTokenCount(value: unknown): InvalidValueReason | null {
  return invalidNonNegative(value) ?? ((value as number) > MAX_TOKENS_PER_CALL ? 'too_large' : null);
}

/** `invalidNonNegative`, and at most {@link MAX_COST_PER_CALL_USD}: the cost of one call. */
export function invalidCost(value: unknown): InvalidValueReason | null {
  return invalidNonNegative(value) ?? ((value as number) > MAX_COST_PER_CALL_USD ? 'too_large' : null);
}

/**
 * The longest name the meter keeps (model, provider, flow, agent, step, tool, phase): a
 * label value is cut to 64 characters anyway, and a 10 MB model name would otherwise be
 * redacted, written and read back in full on every call.
 */
export const MAX_NAME_LENGTH = 256;

/**
 * `value` as a name: cut to {@link MAX_NAME_LENGTH}, and `unknown` for a value that is
 * not a string (a JavaScript caller's `undefined` or object, which would otherwise become
 * the labels `undefined` and `[object Object]`).
 */
export function capName(value: unknown): string {
  if (typeof value !== 'string') return 'unknown';
  return value.length > MAX_NAME_LENGTH ? value.slice(0, MAX_NAME_LENGTH) : value;
}

/** What an attribute that cannot become JSON is replaced with (a cycle, a BigInt, a getter that throws). */
export const UNSERIALIZABLE = '[unserializable]';

type AttributeValue = string | number | boolean | null;

/**
 * The run's attributes as plain JSON data, so every file and line that carries them can be
 * written. A value that is not JSON (a cyclic object, a BigInt, a getter or `toJSON` that
 * throws, a function) is replaced by {@link UNSERIALIZABLE} and reported through `drop`
 * with its key; the other attributes are kept. Objects that are JSON are kept as a copy,
 * so a later change to the caller's object cannot make the run unwritable.
 */
export function jsonAttributes(attributes: unknown, drop: (key: string) => void): Readonly<Record<string, AttributeValue>> {
  if (attributes === undefined || attributes === null) return {};
  if (typeof attributes !== 'object') {
    drop('attributes');
    return {};
  }
  const out: Record<string, AttributeValue> = {};
  let keys: string[];
  try {
    keys = Object.keys(attributes);
  } catch {
    // A Proxy whose ownKeys trap throws.
    drop('attributes');
    return {};
  }
  for (const key of keys) {
    let value: unknown;
    try {
      value = (attributes as Record<string, unknown>)[key];
    } catch {
      drop(key);
      out[key] = UNSERIALIZABLE;
      continue;
    }
    if (value === undefined) continue;
    if (value === null || typeof value === 'string' || typeof value === 'boolean') out[key] = value;
    else if (typeof value === 'number' && Number.isFinite(value)) out[key] = value;
    else {
      const copy = jsonCopy(value);
      if (copy === undefined) {
        drop(key);
        out[key] = UNSERIALIZABLE;
      } else {
        out[key] = copy as AttributeValue;
      }
    }
  }
  return out;
}

function jsonCopy(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return undefined;
  try {
    const text = JSON.stringify(value);
    return text === undefined ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}
