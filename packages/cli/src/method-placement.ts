import { summarizeSiteNames, type PeftModel, type SiteInfo } from '@vpeft/core';

/** Where one method instance acts: the sites it took (grouped by their declared role) or the backbone parameters it unfroze. */
export interface MethodPlacement {
  method: string;
  /** Site names by role (`(no role)` for sites that declare none), in forward order. */
  sites: Record<string, string[]>;
  /** Backbone parameters a partial-based method unfroze, by parameter role. */
  parameters: Record<string, number>;
}

/** Which sites (and backbone parameters) each method of `model` took, and why — their roles. */
export function methodPlacements(model: PeftModel): MethodPlacement[] {
  return model.methods.map((m) => {
    const sites: Record<string, string[]> = {};
    const seen = new Set<string>();
    for (const attached of model.chains.modules()) {
      if (attached.owner !== m.name || seen.has(attached.site.name)) continue;
      seen.add(attached.site.name);
      (sites[roleLabel(attached.site)] ??= []).push(attached.site.name);
    }
    const parameters: Record<string, number> = {};
    for (const p of model.backbone.parameters.list()) if (p.selectedBy === m.name) parameters[p.role] = (parameters[p.role] ?? 0) + 1;
    return { method: m.name, sites, parameters };
  });
}

function roleLabel(site: SiteInfo): string {
  return site.role ?? `(no role; kind ${site.kind})`;
}

/** One line per method: `lora: 12 sites — attention.qkv: blocks.{0..11}.attn.qkv`. */
export function formatPlacements(placements: readonly MethodPlacement[]): string[] {
  return placements.map((p) => {
    const siteCount = Object.values(p.sites).reduce((n, names) => n + names.length, 0);
    const parts = Object.entries(p.sites).map(([role, names]) => `${role}: ${summarizeSiteNames(names)}`);
    const params = Object.entries(p.parameters).map(([role, n]) => `${n} ${role}`);
    const took = [siteCount ? `${siteCount} site${siteCount === 1 ? '' : 's'} — ${parts.join('; ')}` : '', params.length ? `unfroze backbone parameters: ${params.join(', ')}` : ''].filter(Boolean);
    return `  ${p.method}: ${took.join('; ') || 'nothing'}`;
  });
}
