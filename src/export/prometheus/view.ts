import type { FlowEvent } from '../../model/index.js';
import { Registry } from '../../recorder/index.js';
import { renderRegistry, renderRegistryAsync } from './exposition.js';
import type { ExpositionFormat } from './exposition.js';
import { ArxProfile } from './profiles/arx.js';
import { DefaultProfile } from './profiles/default.js';
import { EnzuProfile } from './profiles/enzu.js';
import type { ExportDiagnostics, Profile } from './profiles/profile.js';

/** `default`: flowmeter's names. `arx`, `enzu`: the seed systems' exact families, for their dashboards. */
export type ProfileName = 'default' | 'arx' | 'enzu';

export const PROFILE_NAMES: readonly ProfileName[] = ['default', 'arx', 'enzu'];

function isProfileName(name: string): name is ProfileName {
  return (PROFILE_NAMES as readonly string[]).includes(name);
}

function isList(value: unknown): value is readonly unknown[] {
  return Array.isArray(value);
}

function unknownProfile(name: string): Error {
  return new Error(`unknown Prometheus profile ${JSON.stringify(name)}; valid profiles are ${PROFILE_NAMES.join(', ')} (combine them with commas, e.g. --profile default,arx)`);
}

/**
 * Reads a `--profile` value such as `default,arx,enzu`: names separated by commas, spaces
 * around them ignored, a repeated name taken once. Throws on an unknown or missing name.
 */
export function parseProfiles(spec: string): ProfileName[] {
  const names: ProfileName[] = [];
  for (const part of String(spec).split(',')) {
    const name = part.trim();
    if (name === '') continue;
    if (!isProfileName(name)) throw unknownProfile(name);
    if (!names.includes(name)) names.push(name);
  }
  if (names.length === 0) throw new Error(`no Prometheus profile given; name one or more of ${PROFILE_NAMES.join(', ')}, e.g. --profile default`);
  return names;
}

export interface PrometheusViewOptions {
  /** Which families to expose; default `['default']`. */
  readonly profiles?: readonly ProfileName[];
  /** Series cap per metric; label sets past it share one overflow series (default 2000). */
  readonly maxSeriesPerMetric?: number;
  /** Read before each render: the meter's dropped events and sink errors (default profile). */
  readonly diagnostics?: () => ExportDiagnostics;
}

/**
 * The Prometheus view of the event stream: every selected profile's families on one
 * Registry (their names never collide: `flowmeter_*`, `ar_*`, `enzu_*`), fed by `record`,
 * read by `render`. Recording never throws; an event that cannot be recorded (a malformed
 * one from outside the meter) is counted in `rejectedEvents`.
 */
export class PrometheusView {
  readonly registry: Registry;
  readonly profiles: readonly ProfileName[];
  readonly #profiles: readonly Profile[];
  #rejected = 0;

  constructor(options: PrometheusViewOptions = {}) {
    const selected: readonly ProfileName[] = options.profiles ?? ['default'];
    if (!isList(selected) || selected.length === 0) {
      throw new Error(`PrometheusView: profiles must list one or more of ${PROFILE_NAMES.join(', ')}`);
    }
    for (const name of selected as readonly string[]) if (!isProfileName(name)) throw unknownProfile(name);
    this.profiles = Object.freeze([...new Set(selected)]);
    this.registry = options.maxSeriesPerMetric === undefined ? new Registry() : new Registry({ maxSeriesPerMetric: options.maxSeriesPerMetric });
    this.#profiles = this.profiles.map((name): Profile => {
      switch (name) {
        case 'default':
          return new DefaultProfile(this.registry, options.diagnostics);
        case 'arx':
          return new ArxProfile(this.registry);
        case 'enzu':
          return new EnzuProfile(this.registry);
        default: {
          const unreachable: never = name;
          return unreachable;
        }
      }
    });
  }

  /** Events that could not be recorded because they were malformed. */
  get rejectedEvents(): number {
    return this.#rejected;
  }

  /** Feeds one event to every profile. Never throws (STYLE.md, error tier 2). */
  record(event: FlowEvent): void {
    const profiles = this.#profiles;
    for (let i = 0; i < profiles.length; i++) {
      try {
        (profiles[i] as Profile).record(event);
      } catch {
        // Only a malformed event gets here (e.g. `run` missing); the profiles themselves do not throw.
        this.#rejected++;
        return;
      }
    }
  }

  /** Takes `steps` of `flowId` out of the in-flight gauges: a tailed run died inside them. Never throws. */
  abandonSteps(flowId: string, steps: number): void {
    if (!(steps > 0)) return;
    for (const profile of this.#profiles) {
      try {
        profile.abandonSteps?.(flowId, steps);
      } catch {
        this.#rejected++;
      }
    }
  }

  /** The exposition, in one synchronous piece. */
  render(format: ExpositionFormat): string {
    this.#collect();
    return renderRegistry(this.registry, format);
  }

  /** The same text, rendered in slices with event-loop turns between them (for very large registries). */
  renderAsync(format: ExpositionFormat): Promise<string> {
    this.#collect();
    return renderRegistryAsync(this.registry, format);
  }

  #collect(): void {
    for (const profile of this.#profiles) {
      try {
        profile.collect?.();
      } catch {
        // A failing diagnostics callback must not fail the scrape; the families keep their last values.
      }
    }
  }
}
