import { VpeftError } from '../errors/errors';
import type { AnySiteModule } from '../method/method';
import type { Next, SiteInfo, SiteKind, SiteOutputMap, SiteRunner, SiteValueMap, TransformContext } from '../sites/site';

/** A module built by a method instance at a site, with its merge state. */
export interface AttachedModule {
  readonly owner: string;
  readonly site: SiteInfo;
  readonly module: AnySiteModule;
  merged: boolean;
}

/**
 * The transforms attached at each site, chained in composition order (first composed = outermost).
 * Merged modules are skipped: their effect lives in the base weights.
 */
export class SiteChains {
  private readonly bySite = new Map<string, AttachedModule[]>();
  private readonly siteInfo = new Map<string, SiteInfo>();

  constructor(sites: readonly SiteInfo[]) {
    for (const site of sites) this.siteInfo.set(site.name, site);
  }

  attach(owner: string, site: SiteInfo, module: AnySiteModule): AttachedModule {
    if (!this.siteInfo.has(site.name)) throw new VpeftError(`"${owner}" targets site "${site.name}", which the backbone does not have`);
    const attached: AttachedModule = { owner, site, module, merged: false };
    const list = this.bySite.get(site.name) ?? [];
    list.push(attached);
    this.bySite.set(site.name, list);
    return attached;
  }

  /** Every attached module, in site order then composition order. */
  modules(): AttachedModule[] {
    return [...this.bySite.values()].flat();
  }

  /** A runner for one forward pass. */
  runner(training: boolean): SiteRunner {
    const scratch = new Map<string, unknown>();
    return {
      run: <K extends SiteKind>(
        name: string,
        input: SiteValueMap[K],
        op: Next<K>,
        extra: Pick<TransformContext, 'layout' | 'normalize'> = {},
      ): SiteOutputMap[K] => {
        const chain = this.bySite.get(name);
        if (!chain || chain.length === 0) return op(input);
        const ctx: TransformContext = { site: this.siteInfo.get(name)!, training, scratch, ...extra };
        let next: Next<K> = op;
        for (let i = chain.length - 1; i >= 0; i--) {
          const attached = chain[i]!;
          if (attached.merged) continue;
          const inner = next;
          const transform = attached.module.transform as unknown as (x: SiteValueMap[K], n: Next<K>, c: TransformContext) => SiteOutputMap[K];
          next = (x) => transform(x, inner, ctx);
        }
        return next(input);
      },
      active: (name: string) => (this.bySite.get(name) ?? []).some((attached) => !attached.merged),
    };
  }
}
