export type { ModelPrice } from './model-price.js';
export { Catalogue, CATALOGUE_VERSION, candidateNames, rateAt } from './catalogue.js';
export type { CatalogueMatch, Rate } from './catalogue.js';
export { ModelMatcher, normalizeModelName } from './matcher.js';
export { PricingConfigError, readPriceFile } from './price-file.js';
export { PriceBook, resolveCost, isReportedCost, UNKNOWN_COST, priceBookFromEnv, PRICES_ENV } from './price-book.js';
export type { PriceBookOptions, PriceEntry, TokenUsage, CostInput, ResolvedCost } from './price-book.js';
