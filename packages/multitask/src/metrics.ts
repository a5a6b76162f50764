import { TaskError } from './errors';

/**
 * The multi-task score Δm in %: the mean over tasks of `(−1)^l_t · (M_multi,t − M_single,t) / M_single,t`
 * × 100, where `l_t = 1` for a metric where lower is better (Maninis et al. 2019, as MTLoRA reports
 * it). Positive: the multi-task model beats the single-task ones on average. Every task of `multi`
 * needs a single-task value; tasks only in `single` are ignored.
 */
export function deltaM(multi: Readonly<Record<string, number>>, single: Readonly<Record<string, number>>, lowerIsBetter: readonly string[] = []): number {
  const tasks = Object.keys(multi);
  if (tasks.length === 0) throw new TaskError('deltaM: no tasks');
  const terms = tasks.map((task) => {
    const m = multi[task]!;
    const s = single[task];
    if (s === undefined) throw new TaskError(`deltaM: no single-task result for task "${task}"; results given for: ${Object.keys(single).join(', ') || 'none'}`);
    if (!Number.isFinite(m) || !Number.isFinite(s) || s === 0) throw new TaskError(`deltaM: task "${task}" needs finite results and a non-zero single-task one (multi ${m}, single ${s})`);
    return ((lowerIsBetter.includes(task) ? -1 : 1) * (m - s)) / s;
  });
  return (100 * terms.reduce((a, b) => a + b, 0)) / terms.length;
}
