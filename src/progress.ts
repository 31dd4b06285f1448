/**
 * Every progress event tidemark reports: one union, discriminated by `type`, so one printer can follow
 * any command. Each command emits its own subset through its callback (`onEvent` for up, down, reset,
 * rebaseline and adopt; `onProgress` for backup). The demo reports whole steps with their results
 * (DemoStep), which is a report, not progress.
 */
import type { PlanStep } from './apply/plan.js';
import type { TidemarkError } from './errors.js';

export type ProgressEvent =
  // A migration being applied or reverted (up, down, reset, replays).
  | { type: 'step-start'; step: PlanStep }
  | { type: 'step-done'; step: PlanStep; durationMs: number }
  | { type: 'step-failed'; step: PlanStep; durationMs: number; error: TidemarkError }
  | { type: 'log'; step: PlanStep; message: string }
  // A table being backed up. `rows`: the exact count, or the planner's estimate (`estimated`) while the digest still runs.
  | { type: 'table-start'; table: string; index: number; total: number; rows: number; estimated?: boolean }
  | { type: 'table-progress'; table: string; rows: number; bytes: number; elapsedMs: number }
  | { type: 'table-done'; table: string; rows: number; bytes: number; elapsedMs: number }
  // A step of a flow (rebaseline, adopt): its name and a detail (a path, a count).
  | { type: 'flow-step'; step: string; detail?: string };

export type ApplyEvent = Extract<ProgressEvent, { type: 'step-start' | 'step-done' | 'step-failed' | 'log' }>;
export type BackupEvent = Extract<ProgressEvent, { type: 'table-start' | 'table-progress' | 'table-done' }>;
export type FlowStepEvent = Extract<ProgressEvent, { type: 'flow-step' }>;
