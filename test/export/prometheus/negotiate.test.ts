import { describe, expect, it } from 'vitest';
import { negotiate } from '../../../src/export/prometheus/index.js';

/** Accept headers as Prometheus servers send them (scrape.go's acceptHeader, by release). */
const PROMETHEUS = {
  '2.5 to 2.32': 'application/openmetrics-text; version=0.0.1,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
  '2.33 to 2.48': 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
  '3.x default scrape_protocols':
    'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2',
  '3.x with native histograms (protobuf first)':
    'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2',
} as const;

describe('negotiate', () => {
  it.each(Object.entries(PROMETHEUS))('picks OpenMetrics for Prometheus %s', (_release, accept) => {
    expect(negotiate(accept)).toBe('openmetrics');
  });

  it('picks text when scrape_protocols puts the text format first', () => {
    expect(negotiate('text/plain;version=1.0.0;escaping=allow-utf-8;q=0.6,text/plain;version=0.0.4;q=0.5,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.4,*/*;q=0.3')).toBe('text');
    expect(negotiate('text/plain;version=0.0.4;q=0.5,*/*;q=0.4')).toBe('text');
  });

  it('picks text without a header, for curl and browsers, and when OpenMetrics is refused', () => {
    expect(negotiate(undefined)).toBe('text');
    expect(negotiate('')).toBe('text');
    expect(negotiate('*/*')).toBe('text');
    expect(negotiate('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')).toBe('text');
    expect(negotiate('application/openmetrics-text;q=0,text/plain;q=0.1')).toBe('text');
    expect(negotiate('application/openmetrics-text;version=2.0.0,text/plain;q=0.1')).toBe('text');
  });

  it('picks OpenMetrics when it is all the scraper asks for, or ranked above a wildcard', () => {
    expect(negotiate('application/openmetrics-text')).toBe('openmetrics');
    expect(negotiate('application/openmetrics-text; version=1.0.0; charset=utf-8')).toBe('openmetrics');
    expect(negotiate('Application/OpenMetrics-Text;Version=1.0.0;Q=0.9, */*;q=0.5')).toBe('openmetrics');
  });

  it('breaks a tie in favour of the range listed first, and lets text/plain override */*', () => {
    expect(negotiate('application/openmetrics-text;q=0.5,text/plain;q=0.5')).toBe('openmetrics');
    expect(negotiate('text/plain;q=0.5,application/openmetrics-text;q=0.5')).toBe('text');
    expect(negotiate('*/*;q=1,text/plain;q=0.1,application/openmetrics-text;q=0.2')).toBe('openmetrics');
  });
});
