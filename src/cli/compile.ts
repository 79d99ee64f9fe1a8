/**
 * `flowmeter compile workflow.ais [-O0|-O1] [--emit ir|dot|mermaid|json] [-o out]`: compile
 * an AIS workflow to the plan `flowmeter run` executes and print it, to see what the
 * optimizer did (how many LLM requests a run makes, what fused, what ran in parallel).
 *
 * The default level is -O1, the level apxm's examples run at; -O0 is the source statement
 * for statement. Exit 0 with the rendering on stdout (warnings as one line each on stderr);
 * exit 1 on a compile error (`file:line:col: error: message` and caret lines) or a file that
 * cannot be read or written (one line); exit 2 on a usage error. Never a stack trace.
 *
 * `-O <level>` is a commander option whose value may be attached, so `-O1` already parses
 * as `-O 1`; `normalizeOptArgs` splits a lone `-O0`/`-O1` explicitly for callers that want
 * argv in that form before commander sees it.
 */
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { formatDiagnostic } from '../runtime/ais/index.js';
import { safeMessage } from '../runtime/ais/diagnostics.js';
import type { Diagnostic } from '../runtime/ais/index.js';
import { compilePlan } from '../runtime/ir/compile-plan.js';
import { EMIT_FORMATS, emitPlan } from '../runtime/ir/emit.js';
import type { EmitFormat } from '../runtime/ir/emit.js';
import type { OptLevel } from '../runtime/ir/plan.js';
import { validatePlan } from '../runtime/ir/validate.js';
import type { CliIo } from './io.js';
import { SourceTooLargeError, readWorkflowSource } from './source-file.js';

export const DEFAULT_OPT_LEVEL: OptLevel = 'O1';

/** `0`, `1`, `O0`, `O1` (any case) → the level; anything else is a usage error. */
export function parseOptLevel(value: string): OptLevel {
  const digits = value.trim().replace(/^[oO]/, '');
  if (digits === '0') return 'O0';
  if (digits === '1') return 'O1';
  throw new InvalidArgumentError('must be 0 or 1 (also written O0, O1)');
}

/**
 * Turns each lone `-O0`/`-O1` into `-O`, `0`/`1` (other levels too, so `-O2` is reported as
 * a bad level, not an unknown option). Arguments after `--` are left alone: they are not
 * options. Call it on argv before commander parses it.
 */
export function normalizeOptArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const m = /^-O(\w+)$/.exec(arg);
    if (m === null) out.push(arg);
    else out.push('-O', m[1]!);
  }
  return out;
}

/** flowmeter's version, which stamps and keys compiled plans. */
export function compilerVersion(): string {
  const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
  return pkg.version;
}

export interface CompileCommandOptions {
  readonly file: string;
  readonly level: OptLevel;
  readonly emit: EmitFormat;
  /** Write here instead of stdout. */
  readonly output?: string;
  /** Default: flowmeter's version. */
  readonly compilerVersion?: string;
}

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory',
  ENOTDIR: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
};

/** A file error in a few words ("no such file or directory"), not Node's `ENOENT: ..., open 'x'`. */
export function fileErrorReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== undefined && Object.hasOwn(REASONS, code)) return REASONS[code]!;
  return ((err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '').trim();
}

/** Warnings as one `file:line:col: warning: message` line; errors with the source line and carets. */
export function formatCompileDiagnostic(d: Diagnostic, text: string): string {
  return d.severity === 'warning' ? safeMessage(`${d.file}:${d.line}:${d.col}: warning: ${d.message}`) : formatDiagnostic(d, text);
}

/** Diagnostics printed by `compile` and `run`; the rest are counted in one line. */
export const MAX_PRINTED_DIAGNOSTICS = 20;

/**
 * Prints the first `MAX_PRINTED_DIAGNOSTICS` diagnostics, then how many more there were:
 * a file of garbage answers with a screenful, not megabytes (gcc's -fmax-errors, rustc's
 * "aborting due to N previous errors").
 */
export function printCompileDiagnostics(io: CliIo, file: string, diagnostics: readonly Diagnostic[], omitted: number, text: string): void {
  for (const d of diagnostics.slice(0, MAX_PRINTED_DIAGNOSTICS)) io.err(formatCompileDiagnostic(d, text));
  const total = diagnostics.length + omitted;
  const rest = total - Math.min(diagnostics.length, MAX_PRINTED_DIAGNOSTICS);
  if (rest > 0) io.err(safeMessage(`${file}: ${rest.toLocaleString('en-US')} more diagnostic${rest === 1 ? '' : 's'} not shown (${total.toLocaleString('en-US')} in all)`));
}

/** The workflow's text, or a one-line reason it cannot be read. */
export function readSourceOrReason(file: string): { text: string } | { reason: string } {
  try {
    return { text: readWorkflowSource(file) };
  } catch (err) {
    return { reason: err instanceof SourceTooLargeError ? err.message : fileErrorReason(err) };
  }
}

/** Runs `flowmeter compile`; returns the exit code. */
export function compileCommand(o: CompileCommandOptions, io: CliIo): number {
  const source = readSourceOrReason(o.file);
  if ('reason' in source) {
    io.err(safeMessage(`flowmeter: cannot read ${o.file}: ${source.reason}`));
    return 1;
  }
  const { text } = source;
  const { plan, diagnostics, omitted } = compilePlan(o.file, text, o.level, o.compilerVersion ?? compilerVersion());
  printCompileDiagnostics(io, o.file, diagnostics, omitted, text);
  if (plan === undefined) return 1;
  const issues = validatePlan(plan);
  if (issues.length > 0) {
    io.err(`flowmeter: internal compiler error: the plan for ${o.file} is invalid: ${issues.map((i) => i.message).join('; ')}`);
    return 1;
  }
  const rendered = emitPlan(plan, o.emit);
  if (o.output === undefined) {
    io.out(rendered.endsWith('\n') ? rendered.slice(0, -1) : rendered);
    return 0;
  }
  try {
    writeFileSync(o.output, rendered);
  } catch (err) {
    io.err(`flowmeter: cannot write ${o.output}: ${fileErrorReason(err)}`);
    return 1;
  }
  return 0;
}

export function registerCompile(cli: Command, io: CliIo, setCode: (code: number) => void): void {
  cli
    .command('compile')
    .description('compile an .ais workflow to the plan `flowmeter run` executes and print it: IR text, Graphviz dot, Mermaid or the plan JSON')
    .argument('<file>', 'the .ais workflow')
    .addOption(
      new Option('-O, --opt <level>', 'optimization level: 0 (none) or 1 (inline, DCE, CSE, ask-chain fusion); -O0 and -O1 work too')
        .argParser(parseOptLevel)
        .default(DEFAULT_OPT_LEVEL, "1, as apxm's examples use -O1"),
    )
    .addOption(new Option('--emit <format>', 'what to print: IR text, Graphviz dot, Mermaid flowchart or the plan JSON').choices(EMIT_FORMATS).default('ir'))
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action((file: string, opts: { opt: OptLevel; emit: EmitFormat; output?: string }) => {
      setCode(compileCommand({ file, level: opts.opt, emit: opts.emit, ...(opts.output !== undefined ? { output: opts.output } : {}) }, io));
    });
}
