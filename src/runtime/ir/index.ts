/**
 * The IR: AIS source → `Plan` (lowering, the -O1 passes), validation, the plan cache and
 * `compile --emit` renderings. `plan.ts` holds the types the executor runs.
 */
export { loadOrCompile, parsePlan, planCacheKey, serializePlan, DEFAULT_PLAN_CACHE_DIR, PlanFormatError } from './artifact.js';
export type { LoadOrCompileOptions, LoadOrCompileResult } from './artifact.js';
export { compilePlan } from './compile-plan.js';
export type { PlanCompileResult } from './compile-plan.js';
export { llmRequests, nodeCount } from './count.js';
export { emitPlan, isEmitFormat, EMIT_FORMATS } from './emit.js';
export type { EmitFormat } from './emit.js';
export { lowerProgram } from './lower.js';
export { optimize } from './optimize.js';
export { canonicalJson, computePlanHash, verifyPlanHash, withHash } from './plan-hash.js';
export { dataDeps, PLAN_FORMAT } from './plan.js';
export type { Arg, FusedStep, IrFlow, IrNode, LeafOp, NodeOp, OptLevel, Part, PassStat, Plan, PlanWarning, SourcePos, SwitchCaseOp } from './plan.js';
export { validatePlan } from './validate.js';
export type { PlanIssue, ValidateOptions } from './validate.js';
