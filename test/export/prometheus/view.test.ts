import { describe, expect, it } from 'vitest';
import { PrometheusView, parseProfiles } from '../../../src/export/prometheus/index.js';
import type { ProfileName } from '../../../src/export/prometheus/index.js';
import { runStarted } from './fixtures.js';
import { find, parseExposition, valueOf } from './parse.js';

describe('parseProfiles', () => {
  it('reads a comma list, trimming spaces and taking a repeated name once', () => {
    expect(parseProfiles('default,arx,enzu')).toEqual(['default', 'arx', 'enzu']);
    expect(parseProfiles(' enzu , arx ')).toEqual(['enzu', 'arx']);
    expect(parseProfiles('arx,arx,')).toEqual(['arx']);
  });

  it('rejects an unknown name with the list of valid ones', () => {
    expect(() => parseProfiles('default,prom')).toThrow('unknown Prometheus profile "prom"; valid profiles are default, arx, enzu');
    expect(() => parseProfiles('ARX')).toThrow(/valid profiles are default, arx, enzu/);
  });

  it('rejects an empty list', () => {
    expect(() => parseProfiles('')).toThrow(/no Prometheus profile given/);
    expect(() => parseProfiles(' , ')).toThrow(/default, arx, enzu/);
  });
});

describe('PrometheusView', () => {
  it('exposes the default profile unless told otherwise', () => {
    const view = new PrometheusView();
    expect(view.profiles).toEqual(['default']);
    expect(view.registry.family('flowmeter_runs_started_total')).toBeDefined();
    expect(view.registry.family('ar_flow_started_total')).toBeUndefined();
  });

  it('refuses an unknown or empty profile list at construction', () => {
    expect(() => new PrometheusView({ profiles: ['nope' as ProfileName] })).toThrow(/valid profiles are default, arx, enzu/);
    expect(() => new PrometheusView({ profiles: [] })).toThrow(/one or more of default, arx, enzu/);
  });

  it('caps series per metric and counts label sets sent to the overflow series', () => {
    const view = new PrometheusView({ profiles: ['default'], maxSeriesPerMetric: 2 });
    for (const flow of ['a', 'b', 'c', 'd']) view.record(runStarted(flow, { flow_id: flow }));
    const m = parseExposition(view.render('text'));
    expect(find(m, 'flowmeter_runs_started_total')).toHaveLength(3);
    expect(valueOf(m, 'flowmeter_runs_started_total', { flow_id: '__overflow__', agent: '__overflow__' })).toBe(2);
    expect(valueOf(m, 'flowmeter_label_overflow_total', { metric: 'flowmeter_runs_started_total' })).toBe(2);
  });

  it('renders asynchronously the same text as synchronously', async () => {
    const view = new PrometheusView({ profiles: ['default', 'arx', 'enzu'] });
    view.record(runStarted());
    expect(await view.renderAsync('openmetrics')).toBe(view.render('openmetrics'));
  });
});
