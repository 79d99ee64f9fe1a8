/**
 * The bundled example: a support agent that triages tickets with a simulated LLM.
 * Each ticket is one measured run: classify → look up the knowledge base → draft →
 * verify. `npm start` runs a few dozen tickets and prints every run's summary line and
 * the p50/p95/p99 snapshot; the files land in .flowmeter/.
 */
import { pathToFileURL } from 'node:url';
import { createMeter, formatSnapshotTable } from '../src/index.js';
import type { Meter, Run, RunResult } from '../src/index.js';
import { SimulatedProvider } from '../src/runtime/providers/index.js';
import type { Provider } from '../src/runtime/providers/index.js';
import { mulberry32 } from '../src/runtime/providers/random.js';
import { completeWithRetries } from './lib/with-retries.js';

export interface SupportAgentOptions {
  readonly meter: Meter;
  readonly tickets?: number;
  readonly concurrency?: number;
  readonly seed?: number;
  /** 0.02 runs a 1.2 s simulated call in 24 ms. */
  readonly timeScale?: number;
}

export interface TicketOutcome {
  readonly ticket: string;
  readonly result: RunResult<string>;
}

const TOPICS = ['billing', 'login', 'refund', 'outage', 'api-limits', 'invoice', 'sso', 'export'];

class KnowledgeBaseError extends Error {
  override readonly name = 'KnowledgeBaseError';
}

async function handleTicket(run: Run, llm: Provider, random: () => number, ticket: string, timeScale: number): Promise<string> {
  const policy = { maxAttempts: 4, timeScale };
  const topic = TOPICS[Math.floor(random() * TOPICS.length)] ?? 'billing';
  const text = `Ticket ${ticket}: customer reports a problem with ${topic}. `.repeat(1 + Math.floor(random() * 6));
  const kbFails = random() < 0.08;
  const verifyFails = random() < 0.08;

  const category = await run.step('classify', { model: 'gpt-4o-mini' }, () =>
    completeWithRetries(run, llm, { provider: llm.name, model: 'gpt-4o-mini', phase: 'initial' }, { model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'Classify the ticket.' }, { role: 'user', content: text }] }, policy),
  );

  const articles = await run.step('research', () =>
    run.toolCall('search_kb', async () => {
      await new Promise((resolve) => setTimeout(resolve, (20 + random() * 80) * timeScale * 10));
      if (kbFails) throw new KnowledgeBaseError(`knowledge base timed out for topic ${topic}`);
      return [`kb/${topic}/1`, `kb/${topic}/2`];
    }),
  );

  const draft = await run.step('draft', { model: 'gpt-4o' }, () =>
    completeWithRetries(
      run,
      llm,
      { provider: llm.name, model: 'gpt-4o', phase: 'synthesis' },
      { model: 'gpt-4o', messages: [{ role: 'system', content: `Answer using ${articles.join(', ')}.` }, { role: 'user', content: text + (category.text) }] },
      policy,
    ),
  );

  await run.step('verify', { model: 'gpt-4o-mini' }, () =>
    completeWithRetries(run, llm, { provider: llm.name, model: 'gpt-4o-mini', phase: 'summary' }, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `Check this reply: ${draft.text}` }] }, policy),
  );
  if (verifyFails) run.setOutcome('verification_failed');
  return draft.text;
}

/** Runs `tickets` tickets, `concurrency` at a time; results come back in ticket order. */
export async function runSupportAgent(options: SupportAgentOptions): Promise<TicketOutcome[]> {
  const { meter, tickets = 36, concurrency = 6, seed = 7, timeScale = 0.02 } = options;
  const outcomes: TicketOutcome[] = new Array<TicketOutcome>(tickets);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tickets) {
      const index = next++;
      const ticket = `T-${String(index + 1).padStart(4, '0')}`;
      // One seeded stream per ticket: what a ticket does never depends on how the
      // concurrent tickets happen to interleave, so a seed reproduces every run.
      const llm = new SimulatedProvider({ seed: seed * 100_003 + index, timeScale, rateLimitRate: 0.08 });
      const random = mulberry32(seed * 7_919 + index);
      const result = await meter.runSettled({ flowId: 'support_triage', taskId: ticket, agent: 'SUPPORT_AI', execMode: 'dry_run', budget: { maxCostUsd: 0.007 } }, (run) =>
        handleTicket(run, llm, random, ticket, timeScale),
      );
      outcomes[index] = { ticket, result };
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return outcomes;
}

export async function main(): Promise<void> {
  const logFile = '.flowmeter/flowmeter.log';
  const meter = createMeter({ log: { format: 'logfmt', destination: { path: logFile } } });
  const outcomes = await runSupportAgent({ meter });
  for (const { ticket, result } of outcomes) console.log(`${ticket}  ${result.summary ?? ''}`);
  console.log('');
  console.log(formatSnapshotTable(meter.snapshot()));
  const diagnostics = meter.diagnostics();
  const dropped = Object.values(diagnostics.dropped_values).reduce((a, b) => a + b, 0) + diagnostics.dropped_events;
  console.log('');
  console.log(`Per-run files:   .flowmeter/runs/<run_id>/metrics.jsonl and run.json (${outcomes.length} runs)`);
  console.log(`Structured logs: ${logFile}  (grep llm_call_complete ${logFile})`);
  console.log(`Dropped values:  ${dropped}`);
  await meter.close();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main();
}
