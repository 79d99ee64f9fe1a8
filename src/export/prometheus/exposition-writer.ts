import type {
  ExpositionSource,
  FamilySource,
  HistogramFamilySource,
  HistogramSeriesSource,
  ScalarFamilySource,
  ScalarSeriesSource,
} from './exposition-source.js';
import { OutputBuffer, PIECE } from './output-buffer.js';
import { escapeHelp, formatBound, formatValue, labelPairs } from './text-encoding.js';

/**
 * The series of one family as the writer last saw them. A series' label values never change
 * once the registry interned it, and series are only ever appended, so the label text of a
 * series is built once and reused by every later scrape; only values are read per render.
 * The text is built when the series is first written (`labelsAt`), inside a render slice,
 * so the first scrape of a large registry is sliced like the others.
 */
interface SeriesCache<H> extends TextCache {
  readonly handles: H[];
  readonly values: (readonly string[])[];
  /** `{a="x",b="y"}`, or '' for a family without labels; built for series 0 … length-1. */
  readonly labels: string[];
  /** Histograms: `{a="x",b="y",` or `{`, the part before `le="…"}`. */
  readonly open: string[];
}

/** The family's strings per format, made on its first render in that format. */
interface TextCache {
  text: FamilyText | undefined;
  openMetrics: FamilyText | undefined;
}

/** The per-format strings of one family, fixed once its definition is known. */
interface FamilyText {
  readonly header: string;
  /** Counter and gauge sample name. */
  readonly sample: string;
  readonly bucket: string;
  readonly sum: string;
  readonly count: string;
  /** Histograms: `le="0.05"} ` for every bound, then `le="+Inf"} `. */
  readonly le: readonly string[];
}

const caches = new WeakMap<FamilySource, SeriesCache<unknown>>();

// How many series are written between two looks at the clock: a look costs ~50 ns, a
// histogram series ~5 µs, so the deadline is overshot by well under a millisecond.
const CLOCK_EVERY = 64;

/** What the writer needs of a family to cache its series: label names and a walk over them. */
interface SeriesWalk<H> {
  readonly seriesCount: number;
  readonly labelNames: readonly string[];
  forEachSeries(visit: (values: readonly string[], series: H) => void): void;
}

function cacheOf<H>(family: FamilySource & SeriesWalk<H>): SeriesCache<H> {
  let cache = caches.get(family) as SeriesCache<H> | undefined;
  if (cache === undefined) {
    cache = { handles: [], values: [], labels: [], open: [], text: undefined, openMetrics: undefined };
    caches.set(family, cache);
  }
  const known = cache.handles.length;
  if (known < family.seriesCount) {
    // Only references are taken here (the registry freezes label values); no text yet.
    const { handles, values } = cache;
    let slot = 0;
    family.forEachSeries((labelValues, series) => {
      if (slot++ < known) return;
      handles.push(series);
      values.push(labelValues);
    });
  }
  return cache;
}

/** Builds the label text of the series up to `i` (every render writes series in order, so it is one). */
function buildLabels(cache: SeriesCache<unknown>, names: readonly string[], i: number, histogram: boolean): void {
  for (let k = cache.labels.length; k <= i; k++) {
    const pairs = labelPairs(names, cache.values[k] as readonly string[]);
    cache.labels.push(pairs === '' ? '' : `{${pairs}}`);
    if (histogram) cache.open.push(pairs === '' ? '{' : `{${pairs},`);
  }
}

function familyText(family: FamilySource, openMetrics: boolean): FamilyText {
  let name = family.name;
  let sample = name;
  if (family.type === 'counter' && openMetrics) {
    // OpenMetrics: the family is named without `_total`, its samples with it.
    if (name.endsWith('_total')) name = name.slice(0, -'_total'.length);
    else sample = `${name}_total`;
  }
  let header: string;
  if (openMetrics) {
    // OpenMetrics orders metadata TYPE, UNIT, HELP; a UNIT must be the name's suffix.
    header = `# TYPE ${name} ${family.type}\n`;
    const unit = family.unit;
    if (unit !== undefined && unit !== '' && name.endsWith(`_${unit}`)) header += `# UNIT ${name} ${unit}\n`;
    header += `# HELP ${name} ${escapeHelp(family.help, true)}\n`;
  } else {
    header = `# HELP ${name} ${escapeHelp(family.help, false)}\n# TYPE ${name} ${family.type}\n`;
  }
  const le: string[] = [];
  if (family.type === 'histogram') {
    for (const bound of family.buckets) le.push(`le="${formatBound(bound, openMetrics)}"} `);
    le.push('le="+Inf"} ');
  }
  return { header, sample, bucket: `${family.name}_bucket`, sum: `${family.name}_sum`, count: `${family.name}_count`, le };
}

function textOf(family: FamilySource, cache: TextCache, openMetrics: boolean): FamilyText {
  if (openMetrics) return (cache.openMetrics ??= familyText(family, true));
  return (cache.text ??= familyText(family, false));
}

// Bytes of the last exposition of each registry, so the next one starts at the right size.
const lastSize = new WeakMap<ExpositionSource, number>();

/**
 * Writes a registry in one exposition format, family by family, series by series. `run`
 * stops at a deadline and picks up where it stopped, so a very large registry can be
 * written in pieces between which the event loop runs. Each series is read in one go
 * (buckets, sum and count from the same moment), so `_count` always equals the `+Inf`
 * bucket, and no bucket exceeds it.
 */
export class ExpositionWriter {
  readonly #registry: ExpositionSource;
  readonly #families: readonly FamilySource[];
  readonly #openMetrics: boolean;
  readonly #out: OutputBuffer;
  #family = 0;
  #series = 0;
  #done = false;

  constructor(registry: ExpositionSource, openMetrics: boolean) {
    this.#registry = registry;
    // Families registered during an asynchronous render join the next one.
    this.#families = registry.families().slice();
    this.#openMetrics = openMetrics;
    this.#out = new OutputBuffer(lastSize.get(registry) ?? 64 * 1024);
  }

  /** Writes until finished or until `performance.now()` passes `deadline`; true when finished. */
  run(deadline = Infinity): boolean {
    const families = this.#families;
    const timed = deadline !== Infinity;
    while (this.#family < families.length) {
      const family = families[this.#family] as FamilySource;
      if (!this.#writeFamily(family, timed, deadline)) return false;
      this.#family++;
      this.#series = 0;
    }
    if (!this.#done) {
      // OpenMetrics: "Expositions MUST end with EOF and SHOULD end with `EOF\n`".
      if (this.#openMetrics) this.#out.write('# EOF\n');
      this.#done = true;
      this.#out.flush();
      lastSize.set(this.#registry, this.#out.length);
    }
    return true;
  }

  /** The exposition; complete once `run` returned true. */
  text(): string {
    return this.#out.toString();
  }

  /** Writes the family from series `#series` on; false when the deadline stopped it. */
  #writeFamily(family: FamilySource, timed: boolean, deadline: number): boolean {
    switch (family.type) {
      case 'counter':
      case 'gauge':
        return this.#writeScalars(family, timed, deadline);
      case 'histogram':
        return this.#writeHistograms(family, timed, deadline);
      default: {
        const unreachable: never = family;
        return unreachable;
      }
    }
  }

  #writeScalars(family: ScalarFamilySource, timed: boolean, deadline: number): boolean {
    const cache = cacheOf<ScalarSeriesSource>(family);
    const strings = textOf(family, cache, this.#openMetrics);
    const { handles, labels } = cache;
    const names = family.labelNames;
    const sample = strings.sample;
    const out = this.#out;
    // Lines are gathered here and handed over a piece at a time (see OutputBuffer).
    let lines = this.#series === 0 ? strings.header : '';
    for (let i = this.#series; i < handles.length; i++) {
      if (timed && (i & (CLOCK_EVERY - 1)) === 0 && i > this.#series && performance.now() > deadline) {
        out.write(lines);
        return this.#pause(i);
      }
      if (i >= labels.length) buildLabels(cache, names, i, false);
      lines += sample + (labels[i] as string) + ' ' + formatValue((handles[i] as ScalarSeriesSource).value) + '\n';
      if (lines.length > PIECE) {
        out.write(lines);
        lines = '';
      }
    }
    out.write(lines);
    return true;
  }

  #writeHistograms(family: HistogramFamilySource, timed: boolean, deadline: number): boolean {
    const cache = cacheOf<HistogramSeriesSource>(family);
    const strings = textOf(family, cache, this.#openMetrics);
    const { handles, labels, open } = cache;
    const names = family.labelNames;
    const { bucket, sum, count, le } = strings;
    const out = this.#out;
    let lines = this.#series === 0 ? strings.header : '';
    for (let i = this.#series; i < handles.length; i++) {
      if (timed && (i & (CLOCK_EVERY - 1)) === 0 && i > this.#series && performance.now() > deadline) {
        out.write(lines);
        return this.#pause(i);
      }
      if (i >= labels.length) buildLabels(cache, names, i, true);
      const series = handles[i] as HistogramSeriesSource;
      // Read together: the `+Inf` bucket is the count, so the two can never disagree.
      const cumulative = series.cumulativeBucketCounts();
      const total = cumulative[cumulative.length - 1] ?? 0;
      const prefix = bucket + (open[i] as string);
      for (let b = 0; b < cumulative.length; b++) lines += prefix + (le[b] as string) + formatValue(cumulative[b] as number) + '\n';
      const tail = (labels[i] as string) + ' ';
      lines += sum + tail + formatValue(series.sum) + '\n' + count + tail + formatValue(total) + '\n';
      if (lines.length > PIECE) {
        out.write(lines);
        lines = '';
      }
    }
    out.write(lines);
    return true;
  }

  /** Stops at series `next` of the current family until the next `run`. */
  #pause(next: number): false {
    this.#series = next;
    this.#out.flush();
    return false;
  }
}
