import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { capture } from '../server/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'flowmeter-prices-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('flowmeter prices', () => {
  it('shows what a router spelling resolves to and its tiered rates', async () => {
    const io = capture();
    expect(await main(['prices', 'anthropic/claude-sonnet-4.5'], io)).toBe(0);
    expect(io.stdout[0]).toMatch(/^anthropic\/claude-sonnet-4\.5 -> claude-sonnet-4-5, from the catalogue \(@pydantic\/genai-prices \d+\.\d+\.\d+\), provider anthropic$/);
    expect(io.stdout).toContain('  input          $3 ($6 above 200,000 input tokens)');
    expect(io.stdout).toContain('  output         $15 ($22.5 above 200,000 input tokens)');
  });

  it('exits 1 with one line for a name nobody prices', async () => {
    const io = capture();
    expect(await main(['prices', 'my-local-llama'], io)).toBe(1);
    expect(io.stderr).toEqual(['flowmeter: no price for "my-local-llama": its calls get cost_usd null; add it to a price file (FLOWMETER_PRICES, see docs/pricing.md)']);
  });

  it('shows a user override winning, from --prices', async () => {
    const file = join(dir, 'prices.json');
    writeFileSync(file, JSON.stringify({ models: { 'my-local-llama': { input: 0.5, output: 1.5 }, 'gpt-4o': { input: 1, output: 2 } } }));
    const io = capture();
    expect(await main(['prices', 'my-local-llama', 'openai/gpt-4o-2024-08-06', '--prices', file, '--json'], io)).toBe(0);
    const found = JSON.parse(io.stdout.join('\n')) as Record<string, { key: string; source: string; input: number }>;
    expect(found['my-local-llama']).toMatchObject({ key: 'my-local-llama', source: 'override', input: 0.5 });
    expect(found['openai/gpt-4o-2024-08-06']).toMatchObject({ key: 'gpt-4o', source: 'override', input: 1 });
  });

  it('answers a broken price file with one line', async () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{"models": {"x": {"input": -1, "output": 1}}}');
    const io = capture();
    expect(await main(['prices', 'x', '--prices', file], io)).toBe(1);
    expect(io.stderr).toHaveLength(1);
    expect(io.stderr[0]).toContain('models["x"].input must be a non-negative number');
  });
});
