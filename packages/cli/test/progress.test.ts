import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/index';
import { captureOutput } from './capture-output';
import { processOutput } from '../src/output';
import { LOG_PROGRESS_INTERVAL, progressInterval } from '../src/progress-throttle';

const captured = captureOutput();
afterEach(() => vi.unstubAllEnvs());

/** A log output (not a terminal) whose clock the test moves. */
function logOutput(intervalSeconds: number) {
  let t = 0;
  const out = processOutput(false, { tty: false, intervalSeconds, now: () => t });
  return { out, at: (seconds: number) => (t = seconds) };
}

describe('progress in a log (stderr not a terminal): like tqdm mininterval', () => {
  it('prints the first update, then at most one per interval, and the last', () => {
    const { out, at } = logOutput(5);
    // 40 steps, 0.25 s apart (10 s): step 1 at 0.25 s, step 21 at 5.25 s (5 s later), step 40 as the last.
    for (let step = 1; step <= 40; step++) {
      at(step * 0.25);
      out.progress({ step }, () => `step ${step}/40`, { key: 'run', last: step === 40 });
    }
    expect(captured.stderr.split('\n').filter(Boolean)).toEqual(['step 1/40', 'step 21/40', 'step 40/40']);
  });

  it('prints a held-back update before the next note or result, and the first update of each new stream', () => {
    const { out, at } = logOutput(5);
    for (let step = 1; step <= 3; step++) {
      at(step);
      out.progress({ step }, () => `a ${step}`, { key: 'a' });
    }
    out.note('evaluating');
    at(3.5);
    out.progress({}, () => 'b 1', { key: 'b' });
    at(3.6);
    out.progress({}, () => 'b 2', { key: 'b' });
    out.result({}, () => 'done');
    expect(captured.stderr.split('\n').filter(Boolean)).toEqual(['a 1', 'a 3', 'evaluating', 'b 1', 'b 2']);
    expect(captured.stdout).toBe('done\n');
  });

  it('a stream that comes back (train after val, the next epoch\'s val) is throttled: one line per epoch for a short validation', () => {
    const { out, at } = logOutput(5);
    // Three epochs of 4 training steps (1 s apart) each followed by a 2-update validation; 15 s in all.
    let t = 0;
    for (let epoch = 1; epoch <= 3; epoch++) {
      for (let step = 1; step <= 4; step++) {
        at(++t);
        out.progress({}, () => `train ${epoch}.${step}`, { key: 'train', last: epoch === 3 && step === 4 });
      }
      at(t + 0.1);
      out.progress({}, () => `val ${epoch}.1`, { key: 'val' });
      at(t + 0.2);
      out.progress({}, () => `val ${epoch}.2`, { key: 'val', last: true });
    }
    // Shown: the first update of each new stream (train 1.1, val 1.1) and every update marked last (each
    // val's end, the run's last step); a returning stream's update only once 5 s have passed since the
    // line before — never here, as a val line is shown every 4 s.
    expect(captured.stderr.split('\n').filter(Boolean)).toEqual(['train 1.1', 'val 1.1', 'val 1.2', 'val 2.2', 'train 3.4', 'val 3.2']);
  });

  it('the interval defaults to 5 s in a log, can be set with VPEFT_PROGRESS_INTERVAL, and a bad value is bad input', () => {
    expect(progressInterval(false, {})).toBe(LOG_PROGRESS_INTERVAL);
    expect(progressInterval(false, { VPEFT_PROGRESS_INTERVAL: '30' })).toBe(30);
    expect(progressInterval(true, { VPEFT_PROGRESS_INTERVAL: '30' })).toBeLessThan(1);
    expect(() => progressInterval(false, { VPEFT_PROGRESS_INTERVAL: 'soon' })).toThrowError(/VPEFT_PROGRESS_INTERVAL expects seconds >= 0, got "soon"/);
  });

  it('vpeft train prints the first and last step of a 16-step run when the interval is longer than the run', async () => {
    vi.stubEnv('VPEFT_PROGRESS_INTERVAL', '3600');
    const args = ['train', '--backbone', 'vit_test_patch8_32', '--data', 'mnist:classes=0|1', '--epochs', '1', '--batch-size', '50'];
    expect(await runCli(args)).toBe(0);
    const steps = captured.stderr.split('\n').filter((line) => /\bstep \d+\/\d+/.test(line));
    // 800 train images in batches of 50: 16 steps.
    expect(steps.map((line) => /step (\d+\/\d+)/.exec(line)![1])).toEqual(['1/16', '16/16']);
  });

  it('evaluation prints progress too (images, img/s, ETA): per-epoch val, test, and vpeft eval — first and last update in a log', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'vpeft-eval-progress-'));
    try {
      vi.stubEnv('VPEFT_PROGRESS_INTERVAL', '3600');
      const train = ['train', '--backbone', 'vit_test_patch8_32', '--data', 'mnist:classes=0|1', '--epochs', '1', '--batch-size', '100', '--out', dir];
      expect(await runCli(train)).toBe(0);
      const evalLines = (prefix: string) => captured.stderr.split('\n').filter((line) => line.startsWith(prefix));
      // The held-out val split and the test split, each scored with a bar, a count, img/s and an ETA; the last update shows the total.
      const val = captured.stderr.split('\n').filter((line) => / val \[[#-]+\] \d+\/\d+ images [\d.]+ img\/s ETA /.test(line));
      const test = captured.stderr.split('\n').filter((line) => / test \[[#-]+\] \d+\/\d+ images [\d.]+ img\/s ETA /.test(line));
      expect(val.length).toBeGreaterThanOrEqual(1);
      expect(test.length).toBeGreaterThanOrEqual(1);
      const [done, total] = /(\d+)\/(\d+) images/.exec(test.at(-1)!)!.slice(1).map(Number);
      expect(done).toBe(total);
      captured.stderr = '';
      expect(await runCli(['eval', '--backbone', 'vit_test_patch8_32', '--adapter', join(dir, 'adapter'), '--data', 'mnist:classes=0|1', '--batch-size', '256'])).toBe(0);
      const lines = evalLines('eval test [');
      // In a log with a long interval: the first batch and the last (the total), nothing between.
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^eval test \[#*-*\] 256\/\d+ images [\d.]+ img\/s ETA /);
      const [last, all] = /(\d+)\/(\d+) images/.exec(lines[1]!)!.slice(1).map(Number);
      expect(last).toBe(all);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
