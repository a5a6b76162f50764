/**
 * pnpm `overrides` that cap every package of a pnpm lockfile at the newest version the lockfile holds
 * (`"name@>1.2.3": "1.2.3"`), so a project resolved offline from pnpm's metadata cache picks versions the
 * local store has (the workspace install put them there) instead of newer ones it has only heard of.
 * Lower ranges (a dependency on an older major) still resolve as they would.
 */
export function lockfileVersionCaps(lockfile: string): Record<string, string> {
  const start = lockfile.indexOf('\npackages:\n');
  const end = lockfile.indexOf('\nsnapshots:\n', start);
  if (start < 0) throw new Error('pnpm-lock.yaml has no packages: section');
  const section = lockfile.slice(start, end < 0 ? undefined : end);
  const newest = new Map<string, number[]>();
  for (const [, name, version] of section.matchAll(/^ {2}'?(@?[^@'\s]+)@(\d+\.\d+\.\d+)'?:$/gm)) {
    const parts = version.split('.').map(Number);
    const seen = newest.get(name);
    if (!seen || compare(parts, seen) > 0) newest.set(name, parts);
  }
  return Object.fromEntries([...newest].map(([name, parts]) => [`${name}@>${parts.join('.')}`, parts.join('.')]));
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}
