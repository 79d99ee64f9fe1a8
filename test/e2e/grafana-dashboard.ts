import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * What Grafana needs to import a dashboard that picks its Prometheus through a `datasource`
 * variable: every panel and target names `${datasource}`, the variables have a data source
 * and a query, and `__inputs` declares the data source the Import dialog asks for.
 */
const VariableDatasource = z.object({ type: z.literal('prometheus'), uid: z.literal('${datasource}') });

const Target = z.object({
  refId: z.string().min(1),
  expr: z.string().min(1),
  datasource: VariableDatasource,
  legendFormat: z.string().optional(),
});

const Panel = z.object({
  id: z.number().int().positive(),
  type: z.enum(['stat', 'timeseries', 'piechart', 'bargauge', 'barchart', 'table']),
  title: z.string().min(1),
  description: z.string().min(1),
  gridPos: z.object({ x: z.number().int().min(0), y: z.number().int().min(0), w: z.number().int().min(1).max(24), h: z.number().int().min(1) }),
  datasource: VariableDatasource,
  targets: z.array(Target).min(1),
});

const DatasourceVariable = z.object({ type: z.literal('datasource'), name: z.string(), query: z.literal('prometheus') });

const QueryVariable = z.object({
  type: z.literal('query'),
  name: z.string(),
  datasource: VariableDatasource,
  definition: z.string().regex(/^label_values\(.+, *\w+\)$/),
  query: z.object({ query: z.string() }),
  multi: z.literal(true),
  includeAll: z.literal(true),
  allValue: z.literal('.*'),
});

export const GrafanaDashboard = z.object({
  __inputs: z.array(z.object({ name: z.string(), type: z.literal('datasource'), pluginId: z.literal('prometheus') })).min(1),
  uid: z.string().min(1),
  title: z.string().min(1),
  schemaVersion: z.number().int().min(36),
  id: z.null(),
  templating: z.object({ list: z.array(z.discriminatedUnion('type', [DatasourceVariable, QueryVariable])) }),
  panels: z.array(Panel).min(1),
});

export type GrafanaDashboard = z.infer<typeof GrafanaDashboard>;
export type QueryVariable = z.infer<typeof QueryVariable>;

/** A dashboard file of dashboards/, as text. */
export function dashboardText(file: string): string {
  return readFileSync(new URL(`../../dashboards/${file}`, import.meta.url), 'utf8');
}

/** One PromQL query of a panel. */
export interface PanelQuery {
  readonly panel: string;
  readonly refId: string;
  readonly expr: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Every target `expr` in the JSON, with the title of the panel that holds it. It walks the
 * whole document rather than trusting the schema, so a query in a nested row or a panel
 * the schema would reject is still checked.
 */
export function panelQueries(json: unknown, panel = '(dashboard)'): PanelQuery[] {
  if (Array.isArray(json)) return json.flatMap((item) => panelQueries(item, panel));
  if (!isRecord(json)) return [];
  const title = typeof json.title === 'string' && Array.isArray(json.targets) ? json.title : panel;
  const found: PanelQuery[] = [];
  if (typeof json.expr === 'string') found.push({ panel, refId: typeof json.refId === 'string' ? json.refId : '?', expr: json.expr });
  // Variables hold queries too, but they are `label_values(...)`, checked on their own.
  for (const [key, value] of Object.entries(json)) if (key !== 'templating') found.push(...panelQueries(value, title));
  return found;
}

/** A template variable as the raw JSON has it (read without the schema, so one bad field does not hide the rest). */
export interface VariableEntry {
  readonly name: string;
  readonly type: string;
  /** The `label_values(...)` of a query variable. */
  readonly definition: string | undefined;
}

export function variablesOf(json: unknown): VariableEntry[] {
  const list = isRecord(json) && isRecord(json.templating) && Array.isArray(json.templating.list) ? json.templating.list : [];
  return list.filter(isRecord).map((v) => ({
    name: String(v.name),
    type: String(v.type),
    definition: typeof v.definition === 'string' ? v.definition : undefined,
  }));
}

/** `path: message` lines of everything the schema rejects; empty when the dashboard is valid. */
export function schemaProblems(json: unknown): string[] {
  const result = GrafanaDashboard.safeParse(json);
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

/** What Grafana puts for its built-in variables; the windows are those a 1 h dashboard range gives. */
const BUILT_INS: Readonly<Record<string, string>> = { __range: '1h', __rate_interval: '1m', __interval: '15s' };

/** A value as Grafana formats it into a regex matcher (`=~"..."`): regex characters escaped for a PromQL string. */
export function regexValue(value: string): string {
  return value.replace(/[\\^$.*+?()[\]{}|]/g, '\\\\$&');
}

/**
 * The query as Grafana sends it: `$name`, `${name}`, `${name:fmt}` and `[[name]]` replaced by
 * `values[name]` or a built-in. Throws on a variable it does not know, so a typo in a
 * dashboard is a failure, not a query that silently matches nothing.
 */
export function interpolate(expr: string, values: Readonly<Record<string, string>>): string {
  const all: Readonly<Record<string, string>> = { ...BUILT_INS, ...values };
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g, (match, a?: string, b?: string, c?: string) => {
    const name = a ?? b ?? c ?? '';
    const value = all[name];
    if (value === undefined) throw new Error(`unknown variable ${match} in ${expr}`);
    return value;
  });
}

/** `label_values(selector, label)` → its parts, for Prometheus's label values API. */
export function labelValuesOf(definition: string): { readonly selector: string; readonly label: string } {
  const m = /^label_values\((.+),\s*(\w+)\)$/.exec(definition);
  if (m === null) throw new Error(`not a label_values(selector, label) query: ${definition}`);
  return { selector: m[1]!.trim(), label: m[2]! };
}
