import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Meter, Run } from '../meter/index.js';
import type { Outcome } from '../model/index.js';

/** The optional request headers that label a call; stripped before the request goes upstream. */
export const ATTRIBUTION_HEADERS = {
  runId: 'x-flowmeter-run-id',
  flowId: 'x-flowmeter-flow-id',
  agent: 'x-flowmeter-agent',
  stepId: 'x-flowmeter-step-id',
  appId: 'x-flowmeter-app-id',
  sessionId: 'x-flowmeter-session-id',
  userId: 'x-flowmeter-user-id',
  runEnd: 'x-flowmeter-run-end',
} as const;

export interface Attribution {
  readonly runId: string | undefined;
  readonly flowId: string | undefined;
  readonly agent: string | undefined;
  readonly stepId: string | undefined;
  /** `x-flowmeter-app-id`, else a fingerprint of the API key, else `anonymous`. Never the key. */
  readonly appId: string;
  readonly sessionId: string | undefined;
  readonly userId: string | undefined;
  readonly runEnd: boolean;
}

const MAX_LENGTH = 200;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const raw = headers[name];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (value === undefined || value === '') return undefined;
  return value.length > MAX_LENGTH ? value.slice(0, MAX_LENGTH) : value;
}

/**
 * A stable, non-reversible name for an API key: `key_` and 12 hex digits of its SHA-256.
 * Enough to tell an app's calls apart; useless for calling the provider.
 */
export function keyFingerprint(headers: IncomingHttpHeaders): string | undefined {
  const auth = header(headers, 'authorization');
  const key = (auth !== undefined ? /^Bearer\s+(\S+)/i.exec(auth)?.[1] : undefined) ?? header(headers, 'x-api-key') ?? header(headers, 'api-key');
  if (key === undefined) return undefined;
  return `key_${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
}

export function attributionOf(headers: IncomingHttpHeaders): Attribution {
  const h = ATTRIBUTION_HEADERS;
  return {
    runId: header(headers, h.runId),
    flowId: header(headers, h.flowId),
    agent: header(headers, h.agent),
    stepId: header(headers, h.stepId),
    appId: header(headers, h.appId) ?? keyFingerprint(headers) ?? 'anonymous',
    sessionId: header(headers, h.sessionId),
    userId: header(headers, h.userId),
    runEnd: /^(1|true|yes)$/i.test(header(headers, h.runEnd) ?? ''),
  };
}

/** How a call ended, for the outcome of the run it belongs to. */
export type CallEnd = Outcome;

interface OpenRun {
  readonly run: Run;
  inFlight: number;
  endAsked: boolean;
  last: CallEnd;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Runs the proxy keeps open. A call without a run id is a run of its own; calls that share
 * `x-flowmeter-run-id` make one run, which ends after `idleMs` without calls or after a
 * call that sent `x-flowmeter-run-end: true` (once every call in flight has ended).
 */
export class RunRegistry {
  private readonly open = new Map<string, OpenRun>();

  constructor(
    private readonly meter: Meter,
    private readonly idleMs: number,
    private readonly onEnd: (runId: string) => void,
  ) {}

  get size(): number {
    return this.open.size;
  }

  /** The run a call belongs to, opened if needed; the call counts as in flight until `release`. */
  acquire(a: Attribution, model: string | undefined, provider: string): { run: Run; release: (end: CallEnd) => void } {
    if (a.runId === undefined) {
      const run = this.meter.flowStart({ flowId: a.flowId ?? 'proxy', agent: a.agent, appId: a.appId, sessionId: a.sessionId, userId: a.userId, provider, model });
      return { run, release: (end) => this.finish(run, end) };
    }
    let entry = this.open.get(a.runId);
    if (entry === undefined) {
      const run = this.meter.flowStart({ runId: a.runId, flowId: a.flowId ?? 'proxy', agent: a.agent, appId: a.appId, sessionId: a.sessionId, userId: a.userId });
      entry = { run, inFlight: 0, endAsked: false, last: 'success', timer: undefined };
      this.open.set(a.runId, entry);
    }
    const slot = entry;
    const runId = a.runId;
    if (slot.timer !== undefined) clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.inFlight++;
    if (a.runEnd) slot.endAsked = true;
    return {
      run: slot.run,
      release: (end) => {
        slot.inFlight--;
        slot.last = end;
        if (slot.inFlight > 0) return;
        if (slot.endAsked) this.close(runId, slot);
        else {
          slot.timer = setTimeout(() => this.close(runId, slot), this.idleMs);
          slot.timer.unref();
        }
      },
    };
  }

  /** Records `budget_exceeded` on the run a refused call would have joined. */
  refuse(a: Attribution, provider: string, model: string | undefined): void {
    if (a.runId !== undefined) {
      const entry = this.open.get(a.runId);
      if (entry !== undefined) {
        entry.run.setOutcome('budget_exceeded', 'budget_exceeded');
        return;
      }
    }
    const run = this.meter.flowStart({ runId: a.runId, flowId: a.flowId ?? 'proxy', agent: a.agent, appId: a.appId, sessionId: a.sessionId, userId: a.userId, provider, model });
    run.flowEnd(false, 'budget_exceeded');
    if (a.runId !== undefined) this.onEnd(a.runId);
  }

  /** Ends every open run (the proxy is closing). */
  closeAll(): void {
    for (const [runId, entry] of [...this.open]) this.close(runId, entry);
  }

  private close(runId: string, entry: OpenRun): void {
    if (this.open.get(runId) !== entry) return;
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    this.open.delete(runId);
    this.finish(entry.run, entry.last);
    this.onEnd(runId);
  }

  private finish(run: Run, end: CallEnd): void {
    if (end === 'success') run.flowEnd(true);
    else run.flowEnd(false, end);
  }
}
