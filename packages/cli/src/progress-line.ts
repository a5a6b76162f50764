import type { ProgressEvent } from '@vpeft/train';

/** `45s`, `3m05s`, `1h02m`; `?` when unknown. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** One progress line: bar, step, epoch, loss, learning rate, img/s and ETA. */
export function formatProgress(label: string, e: ProgressEvent, width = 24): string {
  const done = Math.round((width * e.step) / e.totalSteps);
  const bar = `${'#'.repeat(done)}${'-'.repeat(width - done)}`;
  return `${label} [${bar}] step ${e.step}/${e.totalSteps} epoch ${e.epoch + 1} loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(1)} ${e.imagesPerSecond.toFixed(1)} img/s ETA ${duration(e.etaSeconds)}`;
}
