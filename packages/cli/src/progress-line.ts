import type { EvaluationProgress, ProgressEvent } from '@vpeft/train';
import type { Output } from './output';

/** `45s`, `3m05s`, `1h02m`; `?` when unknown. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** `[######------]`: `done` of `total` as a bar `width` wide (empty when the total is unknown). */
function bar(done: number, total: number | undefined, width: number): string {
  const filled = total ? Math.min(width, Math.round((width * done) / total)) : 0;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** One progress line: bar, step, epoch, loss, learning rate, img/s and ETA. */
export function formatProgress(label: string, e: ProgressEvent, width = 24): string {
  return `${label} ${bar(e.step, e.totalSteps, width)} step ${e.step}/${e.totalSteps} epoch ${e.epoch + 1} loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(1)} ${e.imagesPerSecond.toFixed(1)} img/s ETA ${duration(e.etaSeconds)}`;
}

/** One evaluation progress line: bar, images scored, img/s and ETA. */
export function formatEvalProgress(label: string, e: EvaluationProgress, width = 24): string {
  return `${label} ${bar(e.done, e.total, width)} ${e.done}${e.total === undefined ? '' : `/${e.total}`} images ${e.imagesPerSecond.toFixed(1)} img/s ETA ${duration(e.etaSeconds)}`;
}

/**
 * The `onProgress` of an evaluation: one progress stream `label` on the CLI's output (redrawn on a
 * terminal, throttled in a log like training's), the last update always shown.
 */
export function evalProgress(out: Output, label: string): (e: EvaluationProgress) => void {
  return (e) => out.progress({ eval: label, ...e }, () => formatEvalProgress(label, e), { key: label, last: e.total !== undefined && e.done >= e.total });
}
