import { BaseCallbackHandler } from '@langchain/core/callbacks/base';
import type { Serialized } from '@langchain/core/load/serializable';
import type { LLMResult } from '@langchain/core/outputs';
import type { Run, StepTimer, Usage } from '../meter/index.js';
import { MeteredCall } from '../proxy/metered-call.js';
import { callScope } from './metering-fetch.js';
import type { ObserveOptions } from './metering-fetch.js';

export { defaultMeter } from './metering-fetch.js';
export type { ObserveOptions } from './metering-fetch.js';

type Obj = Readonly<Record<string, unknown>>;

/** One LangChain run (a chain, graph node, model or tool call) as the handler follows it. */
interface Node {
  readonly run: Run;
  /** The step calls below it belong to: the nearest LangGraph node. */
  readonly stepId: string | undefined;
  /** Set on the outermost LangChain run when it opened a flowmeter run of its own. */
  readonly ownsRun: boolean;
  /** Settles when each call below the outermost node is recorded; the root's list is shared by its tree. */
  readonly records: Promise<unknown>[];
  step?: StepTimer;
  call?: MeteredCall;
  firstTokenSeen?: boolean;
  tool?: { readonly end: (err: Error | undefined) => void };
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null;
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Usage from a model's result: the message's `usage_metadata` (with cache detail), else `llmOutput.tokenUsage`. */
function usageOf(output: LLMResult): Usage | undefined {
  for (const generations of output.generations) {
    for (const generation of generations) {
      const message = (generation as { message?: unknown }).message;
      const meta = isObj(message) ? message.usage_metadata : undefined;
      if (isObj(meta)) {
        const details = isObj(meta.input_token_details) ? meta.input_token_details : {};
        const usage: { -readonly [K in keyof Usage]: Usage[K] } = {};
        const input = num(meta.input_tokens);
        const output = num(meta.output_tokens);
        const cacheRead = num(details.cache_read);
        const cacheWrite = num(details.cache_creation);
        if (input !== undefined) usage.inputTokens = input;
        if (output !== undefined) usage.outputTokens = output;
        if (cacheRead !== undefined) usage.cachedInputTokens = cacheRead;
        if (cacheWrite !== undefined) usage.cacheWriteTokens = cacheWrite;
        return usage;
      }
    }
  }
  const tokenUsage = isObj(output.llmOutput) && isObj(output.llmOutput.tokenUsage) ? output.llmOutput.tokenUsage : undefined;
  if (tokenUsage === undefined) return undefined;
  const usage: { -readonly [K in keyof Usage]: Usage[K] } = {};
  const input = num(tokenUsage.promptTokens);
  const output2 = num(tokenUsage.completionTokens);
  if (input !== undefined) usage.inputTokens = input;
  if (output2 !== undefined) usage.outputTokens = output2;
  return usage;
}

/** The model that answered, as the provider named it. */
function servedModel(output: LLMResult): string | undefined {
  const fromOutput = isObj(output.llmOutput) ? str(output.llmOutput.model_name) : undefined;
  if (fromOutput !== undefined) return fromOutput;
  const message = (output.generations[0]?.[0] as { message?: unknown } | undefined)?.message;
  return isObj(message) && isObj(message.response_metadata) ? str(message.response_metadata.model_name) : undefined;
}

function lastId(serialized: Serialized): string | undefined {
  const id = (serialized as { id?: unknown }).id;
  return Array.isArray(id) ? str(id.at(-1)) : undefined;
}

/**
 * A LangChain.js / LangGraph.js callback handler that measures what a chain, agent or graph
 * does: each LLM and chat-model call (usage with cache reads and writes, cost, time to first
 * token when streamed, the served model, errors), each tool call, and each LangGraph node as
 * a step. Calls are recorded on the current `meter.run`, or on a run of its own opened by the
 * outermost LangChain run and ended with it. Follows LangChain's run ids, so concurrent
 * invocations never mix.
 *
 * ```ts
 * const handler = new FlowmeterCallbackHandler({ meter });
 * await graph.invoke(input, { callbacks: [handler] });
 * ```
 */
export class FlowmeterCallbackHandler extends BaseCallbackHandler {
  readonly name = 'flowmeter';
  /** Handlers run in order with the work they describe, so a call's timing is its own. */
  override awaitHandlers = true;
  readonly #options: ObserveOptions;
  readonly #nodes = new Map<string, Node>();

  constructor(options: ObserveOptions = {}) {
    super();
    this.#options = options;
  }

  /** The node a LangChain run hangs under: its parent's, or a new root on the current (or its own) run. */
  #open(runId: string, parentRunId: string | undefined, runName: string | undefined, stepId?: string): Node {
    const parent = parentRunId === undefined ? undefined : this.#nodes.get(parentRunId);
    let node: Node;
    if (parent !== undefined) {
      node = { run: parent.run, stepId: stepId ?? parent.stepId, ownsRun: false, records: parent.records };
    } else {
      const scope = callScope(this.#options, runName ?? 'langchain');
      node = { run: scope.run, stepId, ownsRun: scope.own, records: [] };
    }
    this.#nodes.set(runId, node);
    return node;
  }

  /**
   * Ends a LangChain run. The outermost one, when it opened a run of its own, ends that run
   * once every call below it is recorded; the handler returns that promise, and LangChain
   * awaits it (`awaitHandlers`), so the run has ended when `invoke` returns.
   */
  #close(runId: string, err: Error | undefined): Promise<void> | undefined {
    const node = this.#nodes.get(runId);
    if (node === undefined) return undefined;
    this.#nodes.delete(runId);
    // LangGraph's interrupt() (and a Command to a parent graph) leave a node by throwing: a
    // pause that resumes later, not a failure.
    const failure = err !== undefined && !isGraphPause(err) ? err : undefined;
    node.step?.end(failure === undefined, failure?.message);
    if (!node.ownsRun) return undefined;
    const run = node.run;
    return Promise.allSettled(node.records).then(() => void run.flowEnd(failure === undefined, failure?.name));
  }

  override handleChainStart(_chain: Serialized, _inputs: unknown, runId: string, fourth?: string, _tags?: string[], metadata?: Record<string, unknown>, seventh?: string, eighth?: string): void {
    // The declared order is (…, runType, tags, metadata, runName, parentRunId); @langchain/core's
    // callback manager passes (…, parentRunId, tags, metadata, runType, runName). Either is read.
    const declared = fourth === undefined || !this.#nodes.has(fourth);
    const parentRunId = declared && eighth !== undefined && this.#nodes.has(eighth) ? eighth : fourth;
    const runName = parentRunId === fourth ? (eighth ?? seventh) : seventh;
    const graphNode = str(metadata?.langgraph_node);
    // LangGraph reports each node as a chain with its name in metadata; its internal
    // start/end nodes are not the user's steps.
    const isStep = graphNode !== undefined && graphNode !== '__start__' && graphNode !== '__end__' && runName === graphNode;
    const node = this.#open(runId, parentRunId, runName, isStep ? graphNode : undefined);
    if (isStep) node.step = node.run.stepTimer(graphNode);
  }

  override handleChainEnd(_outputs: unknown, runId: string): Promise<void> | undefined {
    return this.#close(runId, undefined);
  }

  override handleChainError(err: Error, runId: string): Promise<void> | undefined {
    return this.#close(runId, err);
  }

  override handleChatModelStart(llm: Serialized, _messages: unknown, runId: string, parentRunId?: string, extraParams?: Record<string, unknown>, _tags?: string[], metadata?: Record<string, unknown>, runName?: string): void {
    this.#startModel(llm, runId, parentRunId, extraParams, metadata, runName);
  }

  override handleLLMStart(llm: Serialized, _prompts: string[], runId: string, parentRunId?: string, extraParams?: Record<string, unknown>, _tags?: string[], metadata?: Record<string, unknown>, runName?: string): void {
    this.#startModel(llm, runId, parentRunId, extraParams, metadata, runName);
  }

  #startModel(llm: Serialized, runId: string, parentRunId: string | undefined, extraParams: Record<string, unknown> | undefined, metadata: Record<string, unknown> | undefined, runName: string | undefined): void {
    const node = this.#open(runId, parentRunId, runName);
    const params = isObj(extraParams?.invocation_params) ? extraParams.invocation_params : {};
    const model = str(params.model) ?? str(params.model_name) ?? str(metadata?.ls_model_name) ?? 'unknown';
    const provider = this.#options.provider ?? str(metadata?.ls_provider) ?? lastId(llm)?.replace(/^Chat/, '').toLowerCase() ?? 'unknown';
    node.call = new MeteredCall(
      node.run,
      { model, provider, streaming: params.stream === true, usage: 'none', ...(node.stepId === undefined ? {} : { stepId: node.stepId }), ...(this.#options.phase === undefined ? {} : { phase: this.#options.phase }) },
      () => undefined,
    );
    node.records.push(node.call.recorded);
  }

  override handleLLMNewToken(token: string, _idx: unknown, runId: string): void {
    const node = this.#nodes.get(runId);
    // The first token with content: a stream opens with an empty role chunk.
    if (node?.call === undefined || node.firstTokenSeen === true || token === '') return;
    node.firstTokenSeen = true;
    // `.stream()` on a model built without `streaming: true` streams all the same: tokens tell.
    node.call.meta.streaming = true;
    node.call.firstToken();
  }

  override handleLLMEnd(output: LLMResult, runId: string): Promise<void> | undefined {
    const node = this.#nodes.get(runId);
    node?.call?.end(usageOf(output), undefined, servedModel(output));
    return this.#close(runId, undefined);
  }

  override handleLLMError(err: Error, runId: string): Promise<void> | undefined {
    const node = this.#nodes.get(runId);
    node?.call?.end(undefined, err, undefined);
    return this.#close(runId, err);
  }

  override handleToolStart(tool: Serialized, _input: string, runId: string, parentRunId?: string, _tags?: string[], _metadata?: Record<string, unknown>, runName?: string): void {
    const node = this.#open(runId, parentRunId, runName);
    const name = runName ?? str((tool as { name?: unknown }).name) ?? lastId(tool) ?? 'tool';
    let end!: (err: Error | undefined) => void;
    const done = new Promise<void>((resolve, reject) => {
      end = (err) => (err === undefined ? resolve() : reject(err));
    });
    node.tool = { end };
    // The meter hands the failure back; it has been recorded by then.
    node.records.push(node.run.toolCall(name, () => done, node.stepId === undefined ? {} : { stepId: node.stepId }).catch(() => undefined));
  }

  override handleToolEnd(_output: unknown, runId: string): Promise<void> | undefined {
    this.#nodes.get(runId)?.tool?.end(undefined);
    return this.#close(runId, undefined);
  }

  override handleToolError(err: Error, runId: string): Promise<void> | undefined {
    this.#nodes.get(runId)?.tool?.end(err);
    return this.#close(runId, err);
  }
}

/** LangGraph's control-flow exceptions: `interrupt()` (GraphInterrupt, NodeInterrupt) and a Command to a parent graph. */
const GRAPH_PAUSES: ReadonlySet<string> = new Set(['GraphInterrupt', 'NodeInterrupt', 'ParentCommand', 'GraphBubbleUp']);

function isGraphPause(err: Error): boolean {
  return GRAPH_PAUSES.has(err.name) || GRAPH_PAUSES.has(err.constructor.name);
}
