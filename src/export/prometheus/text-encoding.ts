/**
 * How numbers and strings are written in the two text formats: Prometheus text 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/) and OpenMetrics 1.0
 * (https://prometheus.io/docs/specs/om/open_metrics_spec/, "Text format").
 */

/**
 * A sample value. Integers below 1e21 come out without an exponent (`String` only switches
 * to exponent notation from 1e21 up); the non-real values use the spellings both formats
 * name: `+Inf`, `-Inf`, `NaN`.
 */
export function formatValue(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (value !== value) return 'NaN';
  return String(value);
}

/**
 * An `le` bound in OpenMetrics: the spec's "Canonical Numbers" are Go's shortest `%g`
 * rendering with `.0` appended when there is neither a point nor an exponent, so `1` is
 * `1.0`, `0.0001` stays, `1e-05` and `1e+06` switch to exponent form (two-digit exponent).
 * Go's rule: exponent form when the decimal exponent is below -4 or at least 6.
 */
export function canonicalFloat(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (value !== value) return 'NaN';
  if (value === 0) return '0.0';
  // toExponential() without an argument gives the shortest digits that round-trip, as Go does.
  const shortest = value.toExponential();
  const e = shortest.indexOf('e');
  const exponent = Number(shortest.slice(e + 1));
  if (exponent < -4 || exponent >= 6) {
    const digits = Math.abs(exponent) < 10 ? `0${Math.abs(exponent)}` : String(Math.abs(exponent));
    return `${shortest.slice(0, e)}e${exponent < 0 ? '-' : '+'}${digits}`;
  }
  // In this range String() writes plain decimals (no exponent), the shortest that round-trip.
  const plain = String(value);
  return plain.includes('.') ? plain : `${plain}.0`;
}

/** An `le` bound as each format wants it: text like prom-client (`0.05`, `800`), OpenMetrics canonical. */
export function formatBound(value: number, openMetrics: boolean): string {
  return openMetrics ? canonicalFloat(value) : formatValue(value);
}

const LABEL_SPECIALS = /[\\"\n]/;
const LABEL_SPECIALS_ALL = /[\\"\n]/g;
const HELP_SPECIALS_TEXT = /[\\\n]/g;

function escapeChar(c: string): string {
  return c === '\n' ? '\\n' : `\\${c}`;
}

/**
 * Label values escape backslash, double quote and line feed in both formats (text 0.0.4:
 * "label_value can be any sequence of UTF-8 characters, but the backslash, the double-quote
 * and the line-feed characters have to be escaped"; OpenMetrics: `escaped-string`).
 */
export function escapeLabelValue(value: string): string {
  return LABEL_SPECIALS.test(value) ? value.replace(LABEL_SPECIALS_ALL, escapeChar) : value;
}

/**
 * HELP text: text 0.0.4 escapes only backslash and line feed (a quote stays as is);
 * OpenMetrics writes HELP as an `escaped-string`, so quotes are escaped too.
 */
export function escapeHelp(help: string, openMetrics: boolean): string {
  return openMetrics ? escapeLabelValue(help) : help.replace(HELP_SPECIALS_TEXT, escapeChar);
}

/** `name="value"` pairs joined by commas, in label-name order, without braces. */
export function labelPairs(names: readonly string[], values: readonly string[]): string {
  let out = '';
  for (let i = 0; i < names.length; i++) {
    if (i > 0) out += ',';
    out += `${names[i]}="${escapeLabelValue(values[i] ?? '')}"`;
  }
  return out;
}
