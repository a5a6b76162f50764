import * as tf from '@tensorflow/tfjs-core';
import { detach } from '../ops/detach';
import type { SiteRunner, TokenLayout } from './site';

interface Recorded {
  readonly name: string;
  readonly order: number;
  readonly value: tf.Tensor;
  readonly layout?: TokenLayout;
}

/**
 * Keeps a backbone's promises at its `tap` sites (see `SiteKind`) during one forward pass: `record`
 * keeps the value of each active tap as it is produced (surviving per-stage `tidy` and off-tape
 * runs), and `run` — called right before `features`, in its scope — hands each one, detached, to its
 * tap site in declaration order. Every backbone that declares taps uses it.
 */
export class TapRecorder {
  private readonly order = new Map<string, number>();
  private readonly recorded: Recorded[] = [];

  /** `taps`: the backbone's tap site names in declaration order. */
  constructor(private readonly sites: SiteRunner, taps: readonly string[]) {
    taps.forEach((name, i) => {
      if (sites.active ? sites.active(name) : true) this.order.set(name, i);
    });
  }

  /** True when a module acts at this tap (only then is its value kept). */
  wants(name: string): boolean {
    return this.order.has(name);
  }

  /** True when no tap is active (a backbone may then skip all tap work). */
  get idle(): boolean {
    return this.order.size === 0;
  }

  /** Keeps `value` for the tap `name` if a module acts there. */
  record(name: string, value: tf.Tensor, layout?: TokenLayout): void {
    const order = this.order.get(name);
    if (order === undefined) return;
    this.recorded.push({ name, order, value: tf.keep(tf.clone(value)), ...(layout ? { layout } : {}) });
  }

  /** Runs the recorded taps' sites, in declaration order, with detached values; frees what was kept. */
  run(): void {
    const taps = this.recorded.splice(0).sort((a, b) => a.order - b.order);
    try {
      for (const tap of taps) {
        const value = detach(tap.value);
        tap.value.dispose();
        // The result is ignored by contract: the backbone's stream goes on unchanged.
        this.sites.run<'tap'>(tap.name, value, (t) => t, tap.layout ? { layout: tap.layout } : {});
      }
    } finally {
      for (const tap of taps) if (!tap.value.isDisposed) tap.value.dispose();
    }
  }

  /** Hands over the recorded values (kept tensors the caller now owns) without running their sites. */
  take(): Array<{ name: string; value: tf.Tensor }> {
    return this.recorded.splice(0).sort((a, b) => a.order - b.order).map(({ name, value }) => ({ name, value }));
  }

  /** Frees whatever was recorded and not run (a forward pass that failed part-way). */
  dispose(): void {
    for (const tap of this.recorded.splice(0)) tap.value.dispose();
  }
}
