/**
 * A small strict reader of both text formats for assertions: it throws on any line it
 * cannot read, unescapes label values and HELP, and keeps metadata in order.
 */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly line: string;
}

export interface Exposition {
  readonly samples: Sample[];
  /** Metadata lines in order: `TYPE name type`, `HELP name text` (unescaped), `UNIT name unit`, `EOF`. */
  readonly meta: string[];
  readonly help: Map<string, string>;
  readonly type: Map<string, string>;
  readonly unit: Map<string, string>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;

export function parseExposition(text: string): Exposition {
  const out: Exposition = { samples: [], meta: [], help: new Map(), type: new Map(), unit: new Map() };
  const lines = text.split('\n');
  if (lines.pop() !== '') throw new Error('exposition does not end with a line feed');
  for (const line of lines) {
    if (line === '# EOF') {
      out.meta.push('EOF');
      continue;
    }
    const meta = /^# (HELP|TYPE|UNIT) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, 'HELP' | 'TYPE' | 'UNIT', string, string];
      const value = kind === 'HELP' ? unescape(rest) : rest;
      out.meta.push(`${kind} ${name} ${value}`);
      (kind === 'HELP' ? out.help : kind === 'TYPE' ? out.type : out.unit).set(name, value);
      continue;
    }
    const sample = SAMPLE.exec(line);
    if (!sample) throw new Error(`unreadable line: ${JSON.stringify(line)}`);
    const [, name, labelText, valueText] = sample as unknown as [string, string, string | undefined, string];
    out.samples.push({ name, labels: parseLabels(labelText ?? ''), value: parseValue(valueText), line });
  }
  return out;
}

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`bad value ${text}`);
  return value;
}

function unescape(text: string): string {
  return text.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    const name = text.slice(i, eq);
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) || text[eq + 1] !== '"') throw new Error(`bad label at ${i} in ${text}`);
    let j = eq + 2;
    let value = '';
    while (text[j] !== '"') {
      if (j >= text.length) throw new Error(`unterminated label value in ${text}`);
      if (text[j] === '\\') {
        const next = text[j + 1];
        if (next !== '\\' && next !== '"' && next !== 'n') throw new Error(`bad escape \\${next} in ${text}`);
        value += next === 'n' ? '\n' : next;
        j += 2;
      } else {
        if (text[j] === '\n') throw new Error('raw line feed in a label value');
        value += text[j];
        j++;
      }
    }
    if (name in labels) throw new Error(`label ${name} twice in ${text}`);
    labels[name] = value;
    i = j + 1;
    if (i < text.length) {
      if (text[i] !== ',') throw new Error(`expected a comma at ${i} in ${text}`);
      i++;
    }
  }
  return labels;
}

/** The samples named `name` whose labels include `labels`. */
export function find(exposition: Exposition, name: string, labels: Readonly<Record<string, string>> = {}): Sample[] {
  return exposition.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The value of the one sample named `name` with exactly these labels; undefined when absent. */
export function valueOf(exposition: Exposition, name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  const keys = Object.keys(labels).length;
  const hits = find(exposition, name, labels).filter((s) => Object.keys(s.labels).length === keys);
  if (hits.length > 1) throw new Error(`${hits.length} samples ${name} ${JSON.stringify(labels)}`);
  return hits[0]?.value;
}
