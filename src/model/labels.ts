/**
 * Label hygiene. ARX promised "PII-free" labels but only filtered characters, so
 * `jane.doe@example.com` came out as `jane.doe_example.com`: still an e-mail, and one new
 * series per user. Here secrets and personal data are recognised and replaced by a marker
 * *before* the character filter, and ids that are high-cardinality by nature are refused as
 * label names at definition.
 */

/** What a redacted part of a label value is replaced with, one marker per kind. */
export const REDACTION_KINDS = ['redacted_email', 'redacted_phone', 'redacted_ip', 'redacted_token', 'redacted_id', 'redacted_card'] as const;

export type RedactionKind = (typeof REDACTION_KINDS)[number];

/** ARX's limit: label values are cut to 64 characters. */
export const LABEL_VALUE_MAX_LENGTH = 64;

/** What an empty label value becomes, so a series never has a blank label. */
export const UNKNOWN_LABEL_VALUE = 'unknown';

/**
 * Label names that are refused at metric definition: each value is one run, user, session
 * or task, so every run would add a series (DESIGN.md: "Labels are low-cardinality only").
 */
export const FORBIDDEN_LABEL_NAMES = ['run_id', 'user_id', 'session_id', 'task_id'] as const;

// `runId`, `RUN_ID` and `run-id` are the same mistake as `run_id`.
const FORBIDDEN_NORMALIZED = new Map(FORBIDDEN_LABEL_NAMES.map((name) => [name.replace(/_/g, ''), name]));

// Prometheus data model: label names match [a-zA-Z_][a-zA-Z0-9_]*; names starting with `__`
// are reserved for Prometheus itself.
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Why `name` cannot be a metric label name, or null when it can. The message says what to
 * do instead, so the caller can throw it as is at definition time.
 */
export function labelNameProblem(name: string): string | null {
  if (typeof name !== 'string' || !LABEL_NAME.test(name)) {
    return `label name ${JSON.stringify(name)} is invalid; Prometheus label names match [a-zA-Z_][a-zA-Z0-9_]*`;
  }
  if (name.startsWith('__')) return `label name ${name} is reserved; names starting with __ belong to Prometheus`;
  const forbidden = FORBIDDEN_NORMALIZED.get(name.toLowerCase().replace(/_/g, ''));
  if (forbidden !== undefined) {
    const alias = forbidden === name ? '' : ` (like ${forbidden})`;
    return `${name} is high-cardinality${alias}; put it in events and logs, not in metric labels`;
  }
  return null;
}

// Every pattern starts behind a negative lookbehind of its own character class, so a match
// can only begin where a run begins. Without that, a long run of near-misses is rescanned
// from each of its characters (quadratic time on a 100 kB value); with it, each run is
// scanned once. The patterns run in this order: credentials first, because a token may hold
// anything the later patterns look for (digits like a phone, `@` like an e-mail).
interface Redaction {
  readonly kind: RedactionKind;
  readonly pattern: RegExp;
  /** A second look at a match the pattern alone cannot judge; false keeps the text. */
  readonly accept?: (match: string) => boolean;
}

const HEX = '[0-9A-Fa-f]';
// Leading zeros allowed (`192.168.001.010`): inet_aton and many loggers write them.
const IPV4_OCTET = '(?:25[0-5]|2[0-4]\\d|[01]?\\d?\\d)';
const IPV4 = `${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3}`;
const H16 = `${HEX}{1,4}`;

const REDACTIONS: readonly Redaction[] = [
  // `Authorization: Bearer <anything>`: the credential is whatever follows the scheme.
  { kind: 'redacted_token', pattern: /(?<![A-Za-z0-9])bearer\s+[^\s"',;]+/gi },
  // OpenAI (`sk-…`, `sk-proj-…`) and Anthropic (`sk-ant-api03-…`) keys. A digit is required
  // so that a name such as `sk-learn-pipeline-step` survives.
  { kind: 'redacted_token', pattern: /(?<![A-Za-z0-9])sk-(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{16,}/g },
  // AWS access key ids (long-term AKIA, temporary ASIA).
  { kind: 'redacted_token', pattern: /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g },
  // GitHub tokens (ghp_, gho_, ghu_, ghs_, ghr_, fine-grained github_pat_) and Slack tokens.
  { kind: 'redacted_token', pattern: /(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/g },
  { kind: 'redacted_token', pattern: /(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,}/g },
  // Google API keys (`AIza` + 35), Stripe keys (`sk_test_…`, `rk_live_…`), Hugging Face
  // (`hf_…`), GitLab personal access tokens (`glpat-…`) and npm tokens (`npm_…`): the
  // prefixes their issuers document for secret scanning.
  { kind: 'redacted_token', pattern: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g },
  { kind: 'redacted_token', pattern: /(?<![A-Za-z0-9])(?:sk|rk|pk)_(?:test|live)_[0-9A-Za-z]{10,}/g },
  { kind: 'redacted_token', pattern: /(?<![A-Za-z0-9])hf_[A-Za-z0-9]{30,}/g },
  { kind: 'redacted_token', pattern: /(?<![A-Za-z0-9])glpat-[A-Za-z0-9_-]{20,}/g },
  { kind: 'redacted_token', pattern: /(?<![A-Za-z0-9])npm_[A-Za-z0-9]{36,}/g },
  // JSON Web Tokens: base64url header and payload, both starting with `{"` (eyJ).
  { kind: 'redacted_token', pattern: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g },
  // The last domain label must be letters, so `lodash@4.17.21` is not an address.
  {
    kind: 'redacted_email',
    pattern: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9-])/g,
  },
  { kind: 'redacted_id', pattern: new RegExp(`(?<!${HEX})${HEX}{8}-${HEX}{4}-${HEX}{4}-${HEX}{4}-${HEX}{12}(?!${HEX})`, 'g') },
  // IPv6 before IPv4, so `::ffff:192.168.0.1` goes as one address. Either eight groups, or
  // fewer around one `::`; a time such as 12:30:45 has neither. Letters may not touch the
  // address, so `std::vector` and `Foo::bar` are left alone.
  {
    kind: 'redacted_ip',
    pattern: new RegExp(
      `(?<![0-9A-Za-z_:.])(?:(?:${H16}:){7}${H16}|(?:${H16}(?::${H16}){0,6})?::${H16}(?::${H16}){0,6}|${H16}(?::${H16}){0,6}::)` +
        `(?:\\.${IPV4_OCTET}(?:\\.${IPV4_OCTET}){2})?(?![0-9A-Za-z_:])`,
      'g',
    ),
  },
  { kind: 'redacted_ip', pattern: new RegExp(`(?<![0-9.])${IPV4}(?![0-9]|\\.\\d)`, 'g') },
  // SHA digests, hex API keys, 128-bit ids without dashes.
  { kind: 'redacted_token', pattern: /(?<![0-9A-Fa-f])[0-9A-Fa-f]{32,}(?![0-9A-Fa-f])/g },
  // Base64 secrets (AWS secret keys, Google API keys, session blobs): 40 or more characters
  // of the base64 alphabets. Long names use that alphabet too (`feature/JIRA-1234-add-…`,
  // `ProcessCustomerRefundRequestWithValidation2`), so a run must also look random.
  { kind: 'redacted_token', pattern: /(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{40,}={0,2}/g, accept: looksRandom },
  // Card numbers (13 to 19 digits, optionally in groups) that pass the Luhn check and start
  // like a card network's numbers (2-6); before the phone patterns, which would take them.
  { kind: 'redacted_card', pattern: /(?<![A-Za-z0-9])[2-6]\d(?:[ -]?\d){11,17}(?![A-Za-z0-9])/g, accept: isCardNumber },
  // Phone numbers: international (`+1 (415) 555-0100`) or grouped national (`415-555-0100`,
  // `020 7946 0958`). Dates (`2024-08-06`) and bare digit runs (`20241022`) are not phones.
  { kind: 'redacted_phone', pattern: /(?<![A-Za-z0-9+])\+\d[\d\s().-]{5,22}\d(?!\d)/g, accept: hasPhoneDigits },
  { kind: 'redacted_phone', pattern: /(?<![A-Za-z0-9])(?:\(\d{2,5}\)\s?|\d{2,5}[\s.-])\d{3,4}[\s.-]\d{4}(?!\d)/g },
  // Phone numbers as label filters leave them: plain digits (`4155550100`), groups joined
  // by `_` (`07700_900123`, `0041_44_668_18_00`), spaces, dots or dashes. Ten to fifteen
  // digits, and not a date or date-time (`2024-08-06_12-30-45`, `20241022123045`).
  { kind: 'redacted_phone', pattern: /(?<![A-Za-z0-9+])\d{1,15}(?:[ ._-]\d{1,8}){0,6}(?![A-Za-z0-9])/g, accept: isPlainPhone },
];

/**
 * A base64 secret is nearly uniform over ~64 symbols, so the character class (upper, lower,
 * digit, other) changes at ~64% of positions; words change class about once per word
 * (~25%). Names are split into words by `-`, `_` or `/`, many of them; a random string has
 * one of those about every 32 characters. Measured on 300,000 random base64 and base64url
 * strings of 40–64 characters: 35 kept (about 1 in 10,000, the shorter ones); and on long
 * model, branch, path and step names: none redacted.
 */
function looksRandom(run: string): boolean {
  let separators = 0;
  let changes = 0;
  let previous = -1;
  let length = run.length;
  while (length > 0 && run.charCodeAt(length - 1) === 61) length--; // `=` padding
  for (let i = 0; i < length; i++) {
    const code = run.charCodeAt(i);
    const kind = code >= 65 && code <= 90 ? 0 : code >= 97 && code <= 122 ? 1 : code >= 48 && code <= 57 ? 2 : 3;
    if (code === 45 || code === 95 || code === 47) separators++; // - _ /
    if (previous !== -1 && kind !== previous) changes++;
    previous = kind;
  }
  return separators <= length * 0.15 && changes >= length * 0.35;
}

/** E.164 numbers have 7 to 15 digits; fewer is a short code or part of something else. */
function hasPhoneDigits(match: string): boolean {
  let digits = 0;
  for (let i = 0; i < match.length; i++) {
    const code = match.charCodeAt(i);
    if (code >= 48 && code <= 57) digits++;
  }
  return digits >= 7 && digits <= 15;
}

function digitsOf(match: string): string {
  let digits = '';
  for (let i = 0; i < match.length; i++) {
    const code = match.charCodeAt(i);
    if (code >= 48 && code <= 57) digits += match[i];
  }
  return digits;
}

/** The Luhn checksum every payment card number carries (ISO/IEC 7812). */
function isCardNumber(match: string): boolean {
  const digits = digitsOf(match);
  if (digits.length < 13 || digits.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

// A year 1900-2099, then a month, with or without separators: a date, not a phone.
const DATE_PREFIX = /^(?:19|20)\d\d[ ._-]?(?:0[1-9]|1[0-2])[ ._-]?[0-3]\d/;

function isPlainPhone(match: string): boolean {
  const digits = digitsOf(match).length;
  return digits >= 10 && digits <= 15 && !DATE_PREFIX.test(match);
}

/**
 * Replaces e-mails, phone numbers, IP addresses, tokens, card numbers and UUIDs in `value`
 * by their marker. The text is first brought to Unicode NFKC, so a full-width `＠` or
 * full-width digits are matched as the ASCII characters they stand for.
 */
export function redactLabelValue(value: string): string {
  let text = value.normalize('NFKC');
  for (const { kind, pattern, accept } of REDACTIONS) {
    pattern.lastIndex = 0;
    text = accept === undefined ? text.replace(pattern, kind) : text.replace(pattern, (match) => (accept(match) ? kind : match));
  }
  return text;
}

// ARX's character set for label values, kept so that its dashboards' regex matchers still work.
const OUTSIDE_LABEL_CHARSET = /[^A-Za-z0-9_\-./:]/g;

/**
 * The value a label gets: redacted (see `redactLabelValue`), then every character outside
 * `[A-Za-z0-9_\-./:]` replaced by `_`, cut to 64 characters, and `unknown` when empty.
 * Never throws: a value that is not a string is converted first.
 */
export function sanitizeLabelValue(value: string): string {
  const text = typeof value === 'string' ? value : safeString(value);
  const clean = redactLabelValue(text).replace(OUTSIDE_LABEL_CHARSET, '_').slice(0, LABEL_VALUE_MAX_LENGTH);
  return clean === '' ? UNKNOWN_LABEL_VALUE : clean;
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    // An object without a usable toString (Object.create(null)) ends up as `unknown`.
    return '';
  }
}
