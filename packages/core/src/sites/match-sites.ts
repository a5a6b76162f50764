import { MethodNotApplicableError, OptionError } from '../errors/errors';
import { globToRegExp } from '../params/glob';
import { SITE_ROLES, type SiteInfo, type SiteKind, type SiteRole } from './site';

/** A role selector: `@<role>`, optionally `:last-stage` (only sites of the backbone's last stage). */
const ROLE_SELECTOR = /^@([a-z.-]+)(?::(last-stage))?$/;

/** Whether a target is a role selector (`@attention.qkv`, `@conv.pointwise:last-stage`) rather than a name glob. */
export function isRoleSelector(target: string): boolean {
  return target.startsWith('@');
}

/** The sites a role selector picks (possibly none); an unknown role throws. */
function selectByRole(selector: string, candidates: readonly SiteInfo[], all: readonly SiteInfo[], options: { option: string; method: string }): SiteInfo[] {
  const m = ROLE_SELECTOR.exec(selector);
  if (!m || !SITE_ROLES.includes(m[1] as SiteRole)) {
    throw new OptionError(options.option, selector, `a role selector @ROLE or @ROLE:last-stage, ROLE one of ${SITE_ROLES.join(', ')}`, options.method);
  }
  const lastStage = all.reduce((n, s) => (s.stage === undefined ? n : Math.max(n, s.stage)), -1);
  return candidates.filter((s) => s.role === m[1] && (m[2] !== 'last-stage' || lastStage < 0 || s.stage === lastStage));
}

/**
 * The sites whose names match any of the targets and whose kind is allowed. A target is a name glob
 * (`blocks.*.attn.qkv`), which must match a site — else an {@link OptionError} naming the option and
 * listing the sites that exist — or a role selector (`@attention.qkv`, `@conv.pointwise:last-stage`,
 * see `SiteRole`), which may match nothing: method defaults list the roles of several backbone
 * families. When role selectors alone match no site, the method does not apply to the backbone: a
 * {@link MethodNotApplicableError} says which roles were looked for and which the backbone has.
 */
export function matchSites(
  sites: readonly SiteInfo[],
  globs: readonly string[],
  options: { kinds: readonly SiteKind[]; option: string; method: string; backbone?: string },
): SiteInfo[] {
  const candidates = sites.filter((s) => options.kinds.includes(s.kind));
  const matched = new Set<SiteInfo>();
  for (const glob of globs) {
    if (isRoleSelector(glob)) {
      for (const hit of selectByRole(glob, candidates, sites, options)) matched.add(hit);
      continue;
    }
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
  if (matched.size === 0 && globs.length > 0) {
    const roles = [...new Set(candidates.flatMap((s) => (s.role ? [s.role] : [])))];
    throw new MethodNotApplicableError(
      options.method,
      options.backbone ?? 'this backbone',
      `no ${options.kinds.join('/')} site has role ${globs.join(' or ')}` +
        (roles.length ? `; its ${options.kinds.join('/')} sites have roles ${roles.join(', ')} — choose sites with ${options.option}=GLOB or @ROLE` : `; it has no ${options.kinds.join('/')} sites`),
    );
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
