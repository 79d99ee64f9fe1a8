export { DEFAULT_PRICES, PRICES_AS_OF } from './price-table.js';
export type { ModelPrice } from './price-table.js';
export { ModelMatcher, normalizeModelName } from './matcher.js';
export { PricingConfigError, readPriceFile } from './price-file.js';
export { PriceBook, resolveCost, isReportedCost, UNKNOWN_COST, priceBookFromEnv, PRICES_ENV } from './price-book.js';
export type { PriceBookOptions, PriceEntry, TokenUsage, CostInput, ResolvedCost } from './price-book.js';
