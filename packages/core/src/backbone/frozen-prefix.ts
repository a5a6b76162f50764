import type { Parameter } from '../params/parameter';
import type { SiteInfo } from '../sites/site';

/**
 * A unit of a backbone's forward pass for frozen-part analysis: a stage or block of a sequential
 * backbone, a layer of a graph. Units are listed in forward order.
 */
export interface ForwardUnit {
  readonly name: string;
  /** Units whose outputs this one reads (earlier in the list). */
  readonly inputs: readonly string[];
  /** Its parameters. */
  readonly parameters: readonly Parameter[];
  /** Its sites' names (not `tap` sites: taps are detached by contract and need no gradient through the backbone). */
  readonly sites: readonly string[];
}

/**
 * The units a training pass need not tape: those that neither hold a trainable parameter, nor have
 * an active site (`active`), nor read a unit that does. No gradient can reach them, so they can run
 * as in inference — off the tape, activations freed early — with the same gradients for the rest.
 * This is the one frozen-part rule every backbone (and `PeftModel`'s linear-probe shortcut) uses.
 */
export function frozenUnits(units: readonly ForwardUnit[], active: (site: string) => boolean): Set<string> {
  const live = new Set<string>();
  for (const unit of units) {
    if (unit.inputs.some((input) => live.has(input)) || unit.sites.some(active) || unit.parameters.some((p) => p.trainable)) live.add(unit.name);
  }
  return new Set(units.map((u) => u.name).filter((name) => !live.has(name)));
}

/**
 * The steps of a sequential, block-structured backbone (ViT, Swin) as {@link ForwardUnit}s, from the
 * places its parameters and sites declare: step 0 holds what runs before the first block (the
 * embedding), step `b + 1` block `b`, the last step what runs after the last block (the final norm,
 * the features). Parameters and sites without a `block` are placed by their position in forward
 * order: before the first block in step 0, after the last in the last step, between blocks (a Swin
 * patch merging) in the step of the next block, whose start runs them. Tap sites are left out.
 */
export function blockSteps(parameters: readonly Parameter[], sites: readonly SiteInfo[], blocks: number): ForwardUnit[] {
  const steps = Array.from({ length: blocks + 2 }, (_, i) => ({ name: `step${i}`, inputs: i > 0 ? [`step${i - 1}`] : [], parameters: [] as Parameter[], sites: [] as string[] }));
  const place = <T extends { block?: number }>(items: readonly T[], put: (step: number, item: T) => void) => {
    // Walk backwards so an unblocked item between blocks takes the step of the next block (it runs at its start).
    let next = blocks + 1;
    let seenBlock = false;
    const steps = items.map(() => 0);
    for (let i = items.length - 1; i >= 0; i--) {
      const block = items[i]!.block;
      if (block !== undefined) {
        next = block + 1;
        seenBlock = true;
      }
      steps[i] = block !== undefined ? block + 1 : seenBlock ? next : blocks + 1;
    }
    const first = items.findIndex((item) => item.block !== undefined);
    items.forEach((item, i) => put(first < 0 || i < first ? 0 : steps[i]!, item));
  };
  place(parameters, (step, p) => steps[step]!.parameters.push(p));
  place(sites.filter((s) => s.kind !== 'tap'), (step, s) => steps[step]!.sites.push(s.name));
  return steps;
}

/** How many leading units are frozen (see {@link frozenUnits}): for a sequential backbone, the prefix to run off the tape. */
export function frozenPrefixLength(units: readonly ForwardUnit[], active: (site: string) => boolean): number {
  const frozen = frozenUnits(units, active);
  const firstLive = units.findIndex((u) => !frozen.has(u.name));
  return firstLive < 0 ? units.length : firstLive;
}
