/**
 * Reading a tool's untyped input without `any`. A tool's input is an AIS capability's
 * arguments or `inv`'s parsed JSON payload, so every field is checked, and a wrong one is a
 * `ToolInputError` that names the tool, the field and what it should be.
 */
import { ToolInputError } from './errors.js';

export type ToolInput = Readonly<Record<string, unknown>>;

/** What a value is, for messages: "an array", "a number", "the string \"x\"". */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 60))}`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

export function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string field that must be present and non-empty. */
export function requiredString(tool: string, input: ToolInput, key: string): string {
  const value = input[key];
  if (typeof value === 'string' && value.length > 0) return value;
  if (value === undefined) throw new ToolInputError(`${tool}: input.${key} is required`);
  throw new ToolInputError(`${tool}: input.${key} must be a non-empty string, got ${describeValue(value)}`);
}

export function optionalString(tool: string, input: ToolInput, key: string): string | undefined {
  const value = input[key];
  if (value === undefined || typeof value === 'string') return value;
  throw new ToolInputError(`${tool}: input.${key} must be a string, got ${describeValue(value)}`);
}

/**
 * An optional whole number in [min, max]. A numeric string counts too: workflow values are
 * mostly text, so a capability argument `"5"` means 5.
 */
export function optionalInteger(tool: string, input: ToolInput, key: string, min: number, max: number): number | undefined {
  const value = input[key];
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max) return n;
  throw new ToolInputError(`${tool}: input.${key} must be a whole number from ${min} to ${max}, got ${describeValue(value)}`);
}

/** An optional record of string values, such as HTTP headers. */
export function optionalStringRecord(tool: string, input: ToolInput, key: string): Readonly<Record<string, string>> | undefined {
  const value = input[key];
  if (value === undefined) return undefined;
  if (!isRecord(value)) throw new ToolInputError(`${tool}: input.${key} must be an object of strings, got ${describeValue(value)}`);
  for (const [name, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new ToolInputError(`${tool}: input.${key}.${name} must be a string, got ${describeValue(v)}`);
  }
  return value as Readonly<Record<string, string>>;
}
