import { token } from './api.js';
import type { MetricsUpdate } from './api.js';

export type LiveMessage = MetricsUpdate | { type: 'run.finished'; run: Record<string, unknown> & { run_id: string } } | { type: 'system'; [k: string]: unknown } | { type: 'alert'; text: string; status: string } | { type: 'runs.skipped'; count: number };

type Listener = (message: LiveMessage) => void;

const listeners = new Set<Listener>();
let socket: WebSocket | null = null;
let retry = 500;
let reconnecting = false;

/** One WebSocket to /ws for the whole page, reconnecting with backoff; the token goes as a subprotocol. */
export function connect(status: HTMLElement): void {
  const url = new URL('ws', document.baseURI);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const t = token();
  socket = t === null ? new WebSocket(url) : new WebSocket(url, [`bearer.${t}`]);
  socket.onopen = () => {
    retry = 500;
    status.textContent = 'live';
    status.className = 'live on';
    // Runs that ended while the stream was down were missed: pages read their lists again.
    if (reconnecting) for (const l of listeners) l({ type: 'runs.skipped', count: 0 });
    reconnecting = false;
  };
  socket.onmessage = (e: MessageEvent<string>) => {
    const message = JSON.parse(e.data) as LiveMessage;
    for (const l of listeners) l(message);
  };
  socket.onclose = () => {
    reconnecting = true;
    status.textContent = 'reconnecting…';
    status.className = 'live off';
    setTimeout(() => connect(status), retry);
    retry = Math.min(10_000, retry * 2);
  };
}

export function onLive(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
