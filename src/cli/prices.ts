import type { Command } from 'commander';
import { CATALOGUE_VERSION, PRICES_ENV, PriceBook, PricingConfigError } from '../pricing/index.js';
import type { PriceEntry, Rate } from '../pricing/index.js';
import type { CliIo } from './io.js';
import { UserError } from './io.js';

export interface PricesOptions {
  /** A price file of overrides; default FLOWMETER_PRICES. */
  readonly prices?: string;
  /** The host that serves the model (`together`, `groq`, …): open-weight models cost what their host charges. */
  readonly provider?: string;
  readonly json?: boolean;
}

function usd(value: number): string {
  return `$${String(Number(value.toPrecision(6)))}`;
}

/** `3` or `3 (6 above 200,000 input tokens)`, per 1M tokens. */
function rateText(rate: Rate): string {
  if (typeof rate === 'number') return usd(rate);
  const tiers = rate.tiers.map((t) => `${usd(t.price)} above ${t.start.toLocaleString('en-US')} input tokens`);
  return tiers.length === 0 ? usd(rate.base) : `${usd(rate.base)} (${tiers.join(', ')})`;
}

function describe(model: string, entry: PriceEntry): string[] {
  const from =
    entry.source === 'override'
      ? 'your price overrides'
      : `the catalogue (@pydantic/genai-prices ${CATALOGUE_VERSION}), provider ${entry.provider ?? 'unknown'}`;
  return [
    `${model} -> ${entry.key}, from ${from}`,
    `  USD per 1M tokens`,
    `  input          ${rateText(entry.input)}`,
    `  cached input   ${entry.cached_input === undefined ? 'charged as input' : rateText(entry.cached_input)}`,
    `  cache write    ${entry.cache_write === undefined ? 'charged as input' : rateText(entry.cache_write)}`,
    `  output         ${rateText(entry.output)}`,
  ];
}

/**
 * `flowmeter prices <model>…`: what each name resolves to (a price override or a catalogue
 * entry) and its rates, the same lookup the meter does for every call. Exit 1 when a name
 * has no price: its calls would be recorded with an unknown cost (null).
 */
export function prices(models: readonly string[], options: PricesOptions, io: CliIo, env: Readonly<Record<string, string | undefined>> = process.env): number {
  let book: PriceBook;
  try {
    const file = options.prices ?? (env[PRICES_ENV]?.trim() || undefined);
    book = new PriceBook(file === undefined ? {} : { file });
  } catch (err) {
    if (err instanceof PricingConfigError) throw new UserError(err.message);
    throw err;
  }
  let unknown = 0;
  const found: Record<string, PriceEntry | null> = {};
  for (const model of models) {
    const entry = book.priceFor(model, options.provider);
    found[model] = entry;
    if (entry === null) unknown++;
    if (options.json === true) continue;
    if (entry === null) io.err(`flowmeter: no price for ${JSON.stringify(model)}: its calls get cost_usd null; add it to a price file (${PRICES_ENV}, see docs/pricing.md)`);
    else for (const line of describe(model, entry)) io.out(line);
  }
  if (options.json === true) io.out(JSON.stringify(found, null, 2));
  return unknown === 0 ? 0 : 1;
}

export function registerPrices(cli: Command, io: CliIo, setCode: (code: number) => void): void {
  cli
    .command('prices')
    .description('show what model names resolve to in the price catalogue or your overrides, and their rates')
    .argument('<model...>', 'model names as your provider or router spells them, e.g. openai/gpt-4o-2024-08-06')
    .option('--prices <file>', `a JSON price file of overrides (default env ${PRICES_ENV})`)
    .option('--provider <id>', 'the host serving the model (together, groq, openrouter, …)')
    .option('--json', 'print the resolved entries as JSON', false)
    .action((models: string[], opts: PricesOptions) => setCode(prices(models, opts, io)));
}
