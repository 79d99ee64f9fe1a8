import { Unauthorized, api } from './api.js';
import type { AlertsAnswer, MetricsUpdate, Report, RunDetail, SeriesAnswer, StoredCall, StoredRun } from './api.js';
import { lineChart, shareBar } from './charts.js';
import { DASH, esc, int, ms, pct, rate, time, usd } from './format.js';
import { onLive } from './live.js';

/** What a page leaves behind when the user navigates away. */
export type Cleanup = () => void;

const RANGES: Readonly<Record<string, number>> = { '15m': 15 * 60_000, '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 };
const STEP_OF: Readonly<Record<string, string>> = { '15m': '1m', '1h': '1m', '24h': '15m', '7d': '1h', '30d': '1d' };

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, html = ''): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (html !== '') e.innerHTML = html;
  return e;
}

function tile(label: string, id: string): string {
  return `<div class="tile"><div class="label">${esc(label)}</div><div class="value" data-tile="${esc(id)}">${DASH}</div></div>`;
}

// ---------------------------------------------------------------- overview

export function overview(app: HTMLElement, range: string): Cleanup {
  const r = RANGES[range] === undefined ? '1h' : range;
  app.innerHTML = `
    <section class="bar">
      <h1>Overview</h1>
      <div class="ranges">${Object.keys(RANGES).map((k) => `<a href="#/?range=${k}" class="${k === r ? 'on' : ''}" data-range="${k}">${k}</a>`).join('')}</div>
    </section>
    <section class="tiles" id="now">
      ${tile('requests/s (1 min)', 'requests_per_second')}${tile('error rate (1 min)', 'error_rate')}${tile('p95 latency', 'p95_latency_ms')}${tile('p99 latency', 'p99_latency_ms')}
      ${tile('cost/min', 'cost_per_minute_usd')}${tile('tokens/s', 'tokens_per_second')}${tile('active runs', 'active_runs')}${tile('active sessions', 'active_sessions')}
    </section>
    <section class="tiles" id="system" title="The server itself, sampled every few seconds">
      ${tile('server CPU', 'cpu_cores')}${tile('server memory', 'rss_bytes')}${tile('event-loop p99', 'event_loop_delay_p99_ms')}${tile('GC pauses', 'gc_pause_ms')}
    </section>
    <section class="tiles" id="window">
      ${tile(`runs (${r})`, 'runs')}${tile('success rate', 'success_rate')}${tile('cost per run p95', 'cost_p95')}${tile('time per run p95', 'time_p95')}${tile('LLM calls', 'calls')}
    </section>
    <section><h2>Outcomes</h2><div id="outcomes"></div></section>
    <section class="charts">
      <div class="chart" id="c-runs"></div><div class="chart" id="c-errors"></div>
      <div class="chart" id="c-latency"></div><div class="chart" id="c-ttft"></div>
      <div class="chart" id="c-cost-run"></div><div class="chart" id="c-cost-min"></div>
      <div class="chart" id="c-tokens-model"></div><div class="chart" id="c-cost-model"></div>
    </section>`;
  const since = `since=${r}`;
  const step = `step=${STEP_OF[r] ?? '1m'}`;
  const series = (metric: string, by = ''): Promise<SeriesAnswer> => api<SeriesAnswer>(`/api/timeseries?metric=${metric}&${since}&${step}${by === '' ? '' : `&by=${by}`}`);
  const chart = (id: string): HTMLElement => app.querySelector<HTMLElement>(`#${id}`)!;
  const draw = async (): Promise<void> => {
    const window = { since: Date.now() - (RANGES[r] ?? 3_600_000), until: Date.now() };
    const [report, runs, errors, p50, p95, p99, t50, t95, t99, costRun, costMin, tokModel, costModel] = await Promise.all([
      api<Report>(`/api/stats?${since}`),
      series('runs_per_second'),
      series('error_rate'),
      series('latency_p50_ms'),
      series('latency_p95_ms'),
      series('latency_p99_ms'),
      series('ttft_p50_ms'),
      series('ttft_p95_ms'),
      series('ttft_p99_ms'),
      series('cost_per_run_p95_usd'),
      series('cost_per_minute_usd'),
      series('tokens_per_second', 'model'),
      series('cost_per_minute_usd', 'model'),
    ]);
    const g = report.groups[0];
    const set = (id: string, text: string): void => {
      const t = app.querySelector(`#window [data-tile="${id}"]`);
      if (t !== null) t.textContent = text;
    };
    set('runs', int(g?.runs ?? 0));
    set('success_rate', pct(g?.success_rate));
    set('cost_p95', usd(g?.cost_per_run_usd.p95));
    set('time_p95', ms(g?.time_per_run_seconds.p95 === null || g?.time_per_run_seconds.p95 === undefined ? null : g.time_per_run_seconds.p95 * 1000));
    set('calls', int(g?.calls.requests ?? 0));
    shareBar(app.querySelector<HTMLElement>('#outcomes')!, g?.outcomes ?? {});
    lineChart(chart('c-runs'), 'Runs per second', [{ label: 'runs/s', answer: runs }], rate, window);
    lineChart(chart('c-errors'), 'LLM error rate', [{ label: 'error rate', answer: errors }], pct, window);
    lineChart(chart('c-latency'), 'LLM latency', [{ label: 'p50', answer: p50 }, { label: 'p95', answer: p95 }, { label: 'p99', answer: p99 }], ms, window);
    lineChart(chart('c-ttft'), 'Time to first token', [{ label: 'p50', answer: t50 }, { label: 'p95', answer: t95 }, { label: 'p99', answer: t99 }], ms, window);
    lineChart(chart('c-cost-run'), 'Cost per run, p95', [{ label: 'p95', answer: costRun }], usd, window);
    lineChart(chart('c-cost-min'), 'Cost per minute', [{ label: '$/min', answer: costMin }], usd, window);
    lineChart(chart('c-tokens-model'), 'Tokens per second by model', [{ label: 'tokens/s', answer: tokModel }], rate, window);
    lineChart(chart('c-cost-model'), 'Cost per minute by model', [{ label: '$/min', answer: costModel }], usd, window);
    app.dataset.loaded = 'overview';
  };
  void draw().catch((err: unknown) => showError(app, err));
  let pending: ReturnType<typeof setTimeout> | undefined;
  const off = onLive((m) => {
    if (m.type === 'metrics.update' && m.application_id === null) {
      for (const [key, value] of Object.entries(m.metrics) as [keyof MetricsUpdate['metrics'], number | null][]) {
        const t = app.querySelector(`#now [data-tile="${key}"]`);
        if (t === null) continue;
        t.textContent = key === 'error_rate' ? pct(value) : key.endsWith('_ms') ? ms(value) : key === 'cost_per_minute_usd' ? usd(value) : key.startsWith('active') ? int(value) : rate(value);
      }
    }
    if (m.type === 'system') {
      const set = (id: string, text: string): void => {
        const t = app.querySelector(`#system [data-tile="${id}"]`);
        if (t !== null) t.textContent = text;
      };
      set('cpu_cores', `${((m.cpu_cores as number) * 100).toFixed(0)}% of a core`);
      set('rss_bytes', `${((m.rss_bytes as number) / 1e6).toFixed(0)} MB`);
      set('event_loop_delay_p99_ms', ms(m.event_loop_delay_p99_ms as number));
      set('gc_pause_ms', `${int(m.gc_pauses as number)} (${ms(m.gc_pause_ms as number)})`);
    }
    // A run ended: the window's figures and charts change; redraw at most every 2 s.
    if ((m.type === 'run.finished' || m.type === 'runs.skipped') && pending === undefined) {
      pending = setTimeout(() => {
        pending = undefined;
        void draw().catch(() => undefined);
      }, 2_000);
    }
  });
  return () => {
    off();
    if (pending !== undefined) clearTimeout(pending);
  };
}

// ---------------------------------------------------------------- runs

const FILTERS = ['flow', 'agent', 'model', 'outcome', 'app'] as const;

function runRow(r: StoredRun): string {
  return `<tr data-run="${esc(r.run_id)}" class="${r.outcome === 'success' ? '' : 'bad'}">
    <td><a href="#/runs/${encodeURIComponent(r.run_id)}">${esc(r.run_id)}</a></td><td>${esc(time(r.start_ms))}</td><td>${esc(r.flow_id)}</td><td>${esc(r.agent)}</td>
    <td>${esc(r.model ?? DASH)}</td><td class="outcome">${esc(r.outcome ?? r.status)}</td><td class="num">${r.elapsed_seconds === null ? DASH : ms(r.elapsed_seconds * 1000)}</td>
    <td class="num">${int(r.total_tokens)}</td><td class="num">${usd(r.cost_usd)}</td><td class="num">${int(r.llm_calls)}</td></tr>`;
}

export function runs(app: HTMLElement, params: URLSearchParams): Cleanup {
  app.innerHTML = `
    <section class="bar"><h1>Runs</h1>
      <form id="filters">${FILTERS.map((f) => `<input name="${f}" placeholder="${f}" value="${esc(params.get(f) ?? '')}" />`).join('')}<button>Filter</button></form>
    </section>
    <table class="runs"><thead><tr><th>run</th><th>started (UTC)</th><th>flow</th><th>agent</th><th>model</th><th>outcome</th><th>time</th><th>tokens</th><th>cost</th><th>LLM calls</th></tr></thead><tbody></tbody></table>
    <button id="older" hidden>Older runs</button>`;
  const tbody = app.querySelector('tbody')!;
  const older = app.querySelector<HTMLButtonElement>('#older')!;
  const query = new URLSearchParams();
  for (const f of FILTERS) if ((params.get(f) ?? '') !== '') query.set(f, params.get(f)!);
  query.set('limit', '50');
  let cursor: string | null = null;
  const load = async (): Promise<void> => {
    const q = new URLSearchParams(query);
    if (cursor !== null) q.set('cursor', cursor);
    const page = await api<{ runs: StoredRun[]; next_cursor: string | null }>(`/api/runs?${q.toString()}`);
    tbody.insertAdjacentHTML('beforeend', page.runs.map(runRow).join(''));
    cursor = page.next_cursor;
    older.hidden = cursor === null;
    app.dataset.loaded = 'runs';
  };
  older.onclick = () => void load().catch((err: unknown) => showError(app, err));
  app.querySelector<HTMLFormElement>('#filters')!.onsubmit = (e) => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    const next = new URLSearchParams();
    for (const f of FILTERS) {
      const value = form.get(f);
      if (typeof value === 'string' && value !== '') next.set(f, value);
    }
    location.hash = `#/runs?${next.toString()}`;
  };
  void load().catch((err: unknown) => showError(app, err));
  // New runs appear at the top as they end, when they pass the filters.
  const off = onLive((m) => {
    // More runs ended than the stream carries: the first page is read again.
    if (m.type === 'runs.skipped' && tbody.querySelectorAll('tr').length <= 50) {
      tbody.replaceChildren();
      cursor = null;
      void load().catch(() => undefined);
      return;
    }
    if (m.type !== 'run.finished') return;
    const r = m.run as unknown as Record<string, unknown>;
    const matches = FILTERS.every((f) => {
      const want = query.get(f);
      const key = f === 'flow' ? 'flow_id' : f === 'app' ? 'app_id' : f;
      return want === null || r[key] === want;
    });
    if (!matches || tbody.querySelector(`tr[data-run="${CSS.escape(String(r.run_id))}"]`) !== null) return;
    const row: StoredRun = {
      run_id: String(r.run_id),
      parent_run_id: (r.parent_run_id as string | null) ?? null,
      flow_id: String(r.flow_id),
      agent: String(r.agent),
      app_id: (r.app_id as string | null) ?? null,
      status: 'finished',
      outcome: String(r.outcome),
      model: (r.model as string | null) ?? null,
      start_ms: Date.parse(String(r.started_at)),
      end_ms: Date.parse(String(r.finished_at)),
      elapsed_seconds: r.elapsed_seconds as number,
      total_tokens: (r.total_tokens as number | null) ?? null,
      cost_usd: (r.cost_usd as number | null) ?? null,
      llm_calls: (r.llm_calls as number | null) ?? null,
      tool_calls: (r.tool_calls as number | null) ?? null,
      retries: (r.retries as number | null) ?? null,
      summary: (r.summary as string | null) ?? null,
    };
    tbody.insertAdjacentHTML('afterbegin', runRow(row).replace('<tr ', '<tr data-live="1" '));
  });
  return off;
}

// ---------------------------------------------------------------- one run

function callLabel(c: StoredCall): string {
  return c.kind === 'llm' ? (c.model ?? 'llm') : (c.tool ?? 'tool');
}

export function run(app: HTMLElement, runId: string): Cleanup {
  app.innerHTML = `<p>Loading ${esc(runId)}…</p>`;
  void (async () => {
    const d = await api<RunDetail>(`/api/runs/${encodeURIComponent(runId)}`);
    const r = d.run;
    const start = r.start_ms;
    const end = Math.max(r.end_ms ?? start, ...d.calls.map((c) => c.end_ms), ...d.steps.map((s) => s.end_ms), start + 1);
    const span = end - start;
    const x = (t: number): string => `${(((t - start) / span) * 100).toFixed(3)}%`;
    const w = (a: number, b: number): string => `${Math.max(0.3, ((b - a) / span) * 100).toFixed(3)}%`;
    const lanes: string[] = [];
    for (const s of d.steps) {
      lanes.push(`<div class="lane"><span class="name">step ${esc(s.step_id)}</span><span class="track"><span class="gbar step ${s.success ? '' : 'failed'}" data-kind="step" style="left:${x(s.start_ms)};width:${w(s.start_ms, s.end_ms)}" title="${esc(`${s.step_id}: ${ms(s.duration_ms)}${s.success ? '' : ` failed: ${s.error ?? ''}`}`)}"></span></span></div>`);
    }
    for (const c of d.calls) {
      const ttft = c.ttft_ms === null ? '' : `<span class="ttft" style="left:${((c.ttft_ms / Math.max(1, c.duration_ms)) * 100).toFixed(2)}%" title="first token after ${esc(ms(c.ttft_ms))}"></span>`;
      const tip = `${callLabel(c)}: ${ms(c.duration_ms)}${c.total_tokens === null ? '' : `, ${int(c.total_tokens)} tokens`}${c.cost_usd === null ? '' : `, ${usd(c.cost_usd)}`}${c.success ? '' : `, failed: ${c.error_type ?? c.error_message ?? ''}`}`;
      lanes.push(`<div class="lane"><span class="name">${esc(c.kind)} ${esc(callLabel(c))}${c.step_id === null ? '' : ` <small>(${esc(c.step_id)})</small>`}</span><span class="track"><span class="gbar ${c.kind} ${c.success ? '' : 'failed'}" data-kind="${c.kind}" data-seq="${c.seq}" style="left:${x(c.start_ms)};width:${w(c.start_ms, c.end_ms)}" title="${esc(tip)}">${ttft}</span></span></div>`);
    }
    if (d.retries.length > 0) {
      const marks = d.retries
        .map((t) => `<span class="retry" data-kind="retry" style="left:${x(t.at_ms ?? start)}" title="${esc(`retry ${t.reason}${t.step_id === null ? '' : ` in ${t.step_id}`}`)}">↻</span>`)
        .join('');
      lanes.push(`<div class="lane"><span class="name">retries</span><span class="track">${marks}</span></div>`);
    }
    const retries = d.retries.map((t) => `<li>retry ${esc(t.reason)}${t.step_id === null ? '' : ` in ${esc(t.step_id)}`}</li>`).join('');
    const children = d.children.map((c) => `<li><a href="#/runs/${encodeURIComponent(c.run_id)}">${esc(c.flow_id)} · ${esc(c.agent)}</a> ${esc(c.outcome ?? c.status)} · ${usd(c.cost_usd)}</li>`).join('');
    app.innerHTML = `
      <section class="bar"><h1>Run ${esc(r.run_id)}</h1><a href="#/runs">all runs</a></section>
      <p class="summary" id="summary">${esc(r.summary ?? '')}</p>
      <section class="tiles">${[
        ['flow', esc(r.flow_id)],
        ['agent', esc(r.agent)],
        ['outcome', esc(r.outcome ?? r.status)],
        ['time', r.elapsed_seconds === null ? DASH : ms(r.elapsed_seconds * 1000)],
        ['tokens', int(r.total_tokens)],
        ['cost', usd(r.cost_usd)],
      ]
        .map(([k, v]) => `<div class="tile"><div class="label">${k}</div><div class="value" data-field="${k}">${v}</div></div>`)
        .join('')}</section>
      ${r.parent_run_id === null ? '' : `<p>Child of <a href="#/runs/${encodeURIComponent(r.parent_run_id)}">${esc(r.parent_run_id)}</a></p>`}
      <section><h2>Timeline</h2><div class="gantt" id="gantt">${lanes.join('') || '<p>No steps or calls.</p>'}</div>
        <p class="axis"><span>0</span><span>${esc(ms(span))}</span></p></section>
      ${retries === '' ? '' : `<section><h2>Retries</h2><ul>${retries}</ul></section>`}
      ${children === '' ? '' : `<section><h2>Child runs</h2><ul class="tree" id="children">${children}</ul></section>`}`;
    app.dataset.loaded = 'run';
  })().catch((err: unknown) => showError(app, err));
  return () => undefined;
}

// ---------------------------------------------------------------- models and agents

export function models(app: HTMLElement, range: string): Cleanup {
  const r = RANGES[range] === undefined ? '24h' : range;
  app.innerHTML = `<section class="bar"><h1>Models &amp; agents</h1><div class="ranges">${Object.keys(RANGES)
    .map((k) => `<a href="#/models?range=${k}" class="${k === r ? 'on' : ''}">${k}</a>`)
    .join('')}</div></section><section id="by-model"></section><section id="by-agent"></section>`;
  void (async () => {
    const [byModel, byAgent] = await Promise.all([api<Report>(`/api/stats?since=${r}&by=model`), api<Report>(`/api/stats?since=${r}&by=agent`)]);
    const table = (title: string, report: Report): string => `<h2>${title}</h2><table class="groups"><thead><tr><th>${title.split(' ')[1] ?? ''}</th><th>LLM calls</th><th>error rate</th><th>p50 latency</th><th>p95 latency</th><th>tokens</th><th>cost</th></tr></thead><tbody>${report.groups
      .filter((g) => g.calls.requests > 0 || g.runs > 0)
      .map((g) => {
        const tokens = g.models.reduce((n, m) => n + m.total_tokens, 0);
        const known = g.models.filter((m) => m.cost_usd !== null);
        const cost = known.length === 0 ? null : known.reduce((n, m) => n + (m.cost_usd ?? 0), 0);
        return `<tr data-group="${esc(g.group)}"><td>${esc(g.group === '' ? '(none)' : g.group)}</td><td class="num">${int(g.calls.requests)}</td><td class="num">${pct(g.calls.error_rate)}</td><td class="num">${ms(g.calls.latency_ms.p50)}</td><td class="num">${ms(g.calls.latency_ms.p95)}</td><td class="num">${int(tokens)}</td><td class="num">${usd(cost)}</td></tr>`;
      })
      .join('')}</tbody></table>`;
    app.querySelector('#by-model')!.innerHTML = table('By model', byModel);
    app.querySelector('#by-agent')!.innerHTML = table('By agent', byAgent);
    app.dataset.loaded = 'models';
  })().catch((err: unknown) => showError(app, err));
  return () => undefined;
}

// ---------------------------------------------------------------- alerts

export function alerts(app: HTMLElement): Cleanup {
  const draw = async (): Promise<void> => {
    const a = await api<AlertsAnswer>('/api/alerts');
    app.innerHTML = `<section class="bar"><h1>Alerts</h1></section>
      <h2>Firing now</h2>${a.firing.length === 0 ? '<p id="none-firing">Nothing is firing.</p>' : `<ul class="firing">${a.firing.map((f) => `<li class="bad">${esc(f.alert)} <b>${esc(f.group)}</b>: ${esc(String(f.measured ?? DASH))} (threshold ${esc(String(f.threshold))}) since ${esc(f.since)}</li>`).join('')}</ul>`}
      <h2>Recently</h2>${a.recent.length === 0 ? '<p>No notifications yet.</p>' : `<ul>${a.recent.map((n) => `<li>${esc(n.text)}</li>`).join('')}</ul>`}
      <h2>Rules</h2>${a.rules.length === 0 ? '<p>No rules. Start <code>flowmeter serve --alert "p95(cost_usd) &gt; 0.05 for 5m by flow"</code>.</p>' : `<ul>${a.rules.map((r) => `<li><code>${esc(r)}</code></li>`).join('')}</ul>`}`;
    app.dataset.loaded = 'alerts';
  };
  void draw().catch((err: unknown) => showError(app, err));
  const off = onLive((m) => {
    if (m.type === 'alert') void draw().catch(() => undefined);
  });
  return off;
}

// ---------------------------------------------------------------- errors and login

export function showError(app: HTMLElement, err: unknown): void {
  if (err instanceof Unauthorized) {
    window.dispatchEvent(new Event('flowmeter:login'));
    return;
  }
  app.append(el('p', { class: 'error', role: 'alert' }, esc(err instanceof Error ? err.message : String(err))));
}
