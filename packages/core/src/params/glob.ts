/**
 * Dotted-name globs, as used for site and parameter names (`blocks.*.attn.qkv`).
 * `*` matches within one dotted segment, `**` matches any number of segments (including none),
 * `{a,b}` matches either alternative. Everything else matches literally.
 */
export function globToRegExp(glob: string): RegExp {
  let pattern = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (char === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '.') {
          i++;
          pattern += '(?:.*\\.)?';
        } else {
          pattern += '.*';
        }
      } else {
        pattern += '[^.]*';
      }
    } else if (char === '{') {
      const end = glob.indexOf('}', i);
      if (end < 0) throw new Error(`unbalanced "{" in glob ${JSON.stringify(glob)}`);
      const options = glob.slice(i + 1, end).split(',').map(escapeRegExp);
      pattern += `(?:${options.join('|')})`;
      i = end;
    } else {
      pattern += escapeRegExp(char);
    }
  }
  return new RegExp(`^${pattern}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/** True when `name` matches any of the globs. */
export function matchesAny(name: string, globs: readonly string[]): boolean {
  return globs.some((glob) => globToRegExp(glob).test(name));
}
