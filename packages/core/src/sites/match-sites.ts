import { OptionError } from '../errors/errors';
import { globToRegExp } from '../params/glob';
import type { SiteInfo, SiteKind } from './site';

/**
 * The sites whose names match any of the globs and whose kind is allowed. Throws an
 * {@link OptionError} naming the option when a glob matches no site, listing the sites that exist.
 */
export function matchSites(
  sites: readonly SiteInfo[],
  globs: readonly string[],
  options: { kinds: readonly SiteKind[]; option: string; method: string },
): SiteInfo[] {
  const candidates = sites.filter((s) => options.kinds.includes(s.kind));
  const matched = new Set<SiteInfo>();
  for (const glob of globs) {
    const re = globToRegExp(glob);
    const hits = candidates.filter((s) => re.test(s.name));
    if (hits.length === 0) {
      throw new OptionError(
        options.option,
        glob,
        `a glob over ${options.kinds.join('/')} sites; this backbone has ${summarizeSiteNames(candidates.map((s) => s.name))}`,
        options.method,
      );
    }
    for (const hit of hits) matched.add(hit);
  }
  return candidates.filter((s) => matched.has(s));
}

/** Collapses `blocks.0.x, blocks.1.x, ...` into `blocks.{0..11}.x` for readable messages. */
export function summarizeSiteNames(names: readonly string[]): string {
  const groups = new Map<string, number[]>();
  const plain: string[] = [];
  for (const name of names) {
    const m = /^(.*?)\.(\d+)\.(.*)$/.exec(name);
    if (!m) {
      plain.push(name);
      continue;
    }
    const key = `${m[1]}.{}.${m[3]}`;
    const list = groups.get(key) ?? [];
    list.push(Number(m[2]));
    groups.set(key, list);
  }
  const parts = [...plain];
  for (const [key, idx] of groups) {
    const range = idx.length > 1 ? `{${Math.min(...idx)}..${Math.max(...idx)}}` : String(idx[0]);
    parts.push(key.replace('{}', range));
  }
  return parts.join(', ');
}
