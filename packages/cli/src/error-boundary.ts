/**
 * The CLI's error boundary: every error ends as ONE line on stderr and an exit code — 2 when the
 * user's input is wrong (options, data, files), 1 when something failed while running. A stack trace
 * is printed only with `--debug` (or `VPEFT_DEBUG=1`).
 *
 * Commands get this for free: throw {@link UsageError} for a bad flag, or let the error classes of
 * the vpeft packages through (they already say what was given, where, and what is allowed).
 */
import { BackboneMismatchError, BackendError, FileFormatError, MethodNotApplicableError, OptionError, ShapeMismatchError, UnknownBackboneError, UnknownMethodError, VpeftError } from '@vpeft/core';
import { DatasetError } from '@vpeft/datasets';
import { TaskError } from '@vpeft/multitask';
import { CheckpointError } from '@vpeft/train';
import { UsageError } from './errors';

/** Exit code for bad input: options, data, files. */
export const EXIT_BAD_INPUT = 2;
/** Exit code for a failure while running. */
export const EXIT_FAILURE = 1;

type ErrorClass = abstract new (...args: never[]) => Error;

/** Error classes that mean "the input is wrong" (exit 2); every other error exits 1. */
const inputErrors = new Set<ErrorClass>([UsageError, BackboneMismatchError, DatasetError, OptionError, UnknownMethodError, UnknownBackboneError, MethodNotApplicableError, ShapeMismatchError, FileFormatError, BackendError, CheckpointError, TaskError]);

/** Node file-system error codes that mean a path given by the user is wrong. */
const FILE_ERROR_CODES = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'ENAMETOOLONG', 'ELOOP']);

/**
 * Declares an error class (and its subclasses) as bad input, so the CLI exits 2 for it. The vpeft
 * classes listed in the CLI README are registered already; a plugin or command with its own class
 * registers it once at import time.
 */
export function registerInputError(errorClass: ErrorClass): void {
  inputErrors.add(errorClass);
}

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e: unknown = error; e !== undefined && chain.length < 8 && !chain.includes(e); e = (e as { cause?: unknown } | null)?.cause) chain.push(e);
  return chain;
}

function isInput(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  for (const errorClass of inputErrors) if (error instanceof errorClass) return true;
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' && FILE_ERROR_CODES.has(code) && typeof (error as NodeJS.ErrnoException).path === 'string';
}

/** The exit code for `error`: 2 when it (or an error it wraps as `cause`) is bad input, else 1. */
export function exitCodeFor(error: unknown): number {
  return causes(error).some(isInput) ? EXIT_BAD_INPUT : EXIT_FAILURE;
}

/** Joins a multi-line message into one line. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** Whether vpeft (or the user's own code through vpeft's classes) raised the error on purpose. */
function isKnown(error: unknown): boolean {
  return error instanceof VpeftError || isInput(error);
}

/**
 * The one line printed for `error` (without a trailing newline). Input errors print their message;
 * vpeft failures add the error's class; anything else is reported as an internal error.
 */
export function errorLine(error: unknown): string {
  if (!(error instanceof Error)) return `vpeft: internal error: ${oneLine(String(error))} (rerun with --debug for details)`;
  const message = oneLine(error.message || error.name);
  if (error instanceof UsageError) return `vpeft: ${message} (see vpeft --help)`;
  if (isInput(error)) return `vpeft: ${message}`;
  if (isKnown(error)) return `vpeft: ${error.name}: ${message}`;
  return `vpeft: internal error: ${error.name}: ${message} (rerun with --debug for the stack trace)`;
}

/** The stack trace of `error` and of every error it wraps (for `--debug`). */
export function errorDetails(error: unknown): string {
  return causes(error)
    .map((e, i) => `${i ? 'caused by: ' : ''}${e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e)}`)
    .join('\n');
}

/** The exit code of the first error reported in this process (later ones keep it). */
let firstExitCode: number | undefined;

/** Writes `error` to stderr as one line (plus its stack with `debug`) and returns its exit code. */
export function reportError(error: unknown, options: { debug: boolean }): number {
  process.stderr.write(`${errorLine(error)}\n`);
  if (options.debug) process.stderr.write(`${errorDetails(error)}\n`);
  const code = exitCodeFor(error);
  firstExitCode ??= code;
  return code;
}

/** Whether `argv` or the environment asks for stack traces. */
export function debugRequested(argv: readonly string[]): boolean {
  return argv.includes('--debug') || /^(1|true|yes)$/i.test(process.env.VPEFT_DEBUG ?? '');
}

/**
 * Catches what escapes the command's own `try` (a rejected promise nobody awaited, an exception
 * thrown from a callback): reports it as one line and exits. The listeners are put first, before
 * the ones the wasm backend's Emscripten runtime installs (which rethrow, so Node would print a
 * stack and exit 7). Only the first error is reported; a later one only shows with `debug`.
 */
export function installProcessErrorBoundary(debug: boolean): void {
  const handle = (error: unknown): void => {
    if (firstExitCode !== undefined) {
      if (debug) process.stderr.write(`after the first error: ${errorDetails(error)}\n`);
      process.exit(firstExitCode);
    }
    process.exit(reportError(error, { debug }));
  };
  process.prependListener('uncaughtException', handle);
  process.prependListener('unhandledRejection', handle);
}
