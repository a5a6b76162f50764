/**
 * Errors thrown by vpeft. Each is a named class whose message says what was given and what
 * is allowed, so a user can fix the call without reading the source.
 */
export class VpeftError extends Error {
  override name = 'VpeftError';
}

/** An option that failed validation: names the option, the value given and what is allowed. */
export class OptionError extends VpeftError {
  override name = 'OptionError';
  constructor(
    readonly option: string,
    readonly given: unknown,
    readonly allowed: string,
    readonly owner?: string,
  ) {
    super(`${owner ? `${owner}: ` : ''}option \`${option}\` got ${describeValue(given)}; expected ${allowed}`);
  }
}

/** A method name that is not in the registry; says which package provides it when known. */
export class UnknownMethodError extends VpeftError {
  override name = 'UnknownMethodError';
  constructor(readonly method: string, readonly registered: readonly string[], readonly packageHint?: string) {
    super(
      `method "${method}" is not registered` +
        (packageHint ? `; install and import ${packageHint}` : '') +
        `. Registered methods: ${registered.length ? registered.join(', ') : '(none)'}`,
    );
  }
}

/**
 * A method that cannot act on this backbone at all (e.g. VPT needs token sites, which a CNN has
 * none of): says what the method needs and what the backbone has. Bad input, not a failure.
 */
export class MethodNotApplicableError extends VpeftError {
  override name = 'MethodNotApplicableError';
  constructor(readonly method: string, readonly backbone: string, readonly reason: string) {
    super(`${method} does not apply to ${backbone}: ${reason}`);
  }
}

/** A tensor whose shape does not match what the model expects. */
export class ShapeMismatchError extends VpeftError {
  override name = 'ShapeMismatchError';
  constructor(readonly tensor: string, readonly expected: readonly number[], readonly actual: readonly number[], readonly source?: string) {
    super(
      `${source ? `${source}: ` : ''}tensor "${tensor}" has shape [${actual.join(', ')}], expected [${expected.join(', ')}]`,
    );
  }
}

/** A file that could not be parsed; names the file and what was wrong. */
export class FileFormatError extends VpeftError {
  override name = 'FileFormatError';
  constructor(readonly file: string, detail: string) {
    super(`${file}: ${detail}`);
  }
}

/**
 * A saved adapter (or checkpoint) given with a backbone other than the one it was trained on: names
 * the file, both backbones and the config keys that differ. Bad input, not a failure.
 */
export class BackboneMismatchError extends VpeftError {
  override name = 'BackboneMismatchError';
}

/** A backend that was asked for but is not installed or failed to start. */
export class BackendError extends VpeftError {
  override name = 'BackendError';
}

/** Short, bounded rendering of a value for error messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  try {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return String(value);
  }
}
