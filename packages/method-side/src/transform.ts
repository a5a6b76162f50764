import * as tf from '@tensorflow/tfjs-core';
import { linear, VpeftError, type TransformContext, type Transform } from '@vpeft/core';
import { gate, gatedSum, poolSide, sideBlock, tapTokens, tokenLinear, type LinearParams, type NormParams, type SideBlockParams } from './side-network';

/** The side network's running state in one forward pass (kept in `ctx.scratch` under the owner's name). */
interface LadderState {
  h: tf.Tensor3D;
  /** Pool the CLS token (the taps' sequences start with prefix tokens) rather than the mean. */
  readonly poolFirst: boolean;
}

function scratchOf(ctx: TransformContext, owner: string): Map<string, unknown> {
  if (!ctx.scratch) throw new VpeftError(`${owner}: the site runner gives no per-forward scratch (ctx.scratch); the side network needs it to carry its state from tap to tap`);
  return ctx.scratch;
}

function stateOf(ctx: TransformContext, owner: string): LadderState {
  const state = scratchOf(ctx, owner).get(owner) as LadderState | undefined;
  if (!state) throw new VpeftError(`${owner}: ${ctx.site.name} ran before the ladder's first tap (taps must run in declaration order before features)`);
  return state;
}

/** The first tap: opens the ladder with `h = down(tap)` (LST's `side_first_downsample`). */
export function openLadderTransform(owner: string, down: LinearParams): Transform<'tap'> {
  return (x, next, ctx) => {
    const tokens = tapTokens(x, ctx.site.name);
    scratchOf(ctx, owner).set(owner, { h: tokenLinear(tokens, down), poolFirst: (ctx.layout?.prefix ?? 0) >= 1 } satisfies LadderState);
    return next(x);
  };
}

/** A rung: `h = block(g·h + (1 − g)·down(tap))` with `g = sigmoid(α/T)` (LST's gated ladder). */
export function ladderRungTransform(owner: string, down: LinearParams, alpha: tf.Variable, temperature: number, block: SideBlockParams): Transform<'tap'> {
  return (x, next, ctx) => {
    const state = stateOf(ctx, owner);
    const tokens = tapTokens(x, ctx.site.name);
    if (tokens.shape[1] !== state.h.shape[1]) {
      throw new VpeftError(`${owner}: tap ${ctx.site.name} has ${tokens.shape[1]} tokens, the ladder ${state.h.shape[1]} (a method changed the token count between taps; tap only where it is constant)`);
    }
    state.h = sideBlock(gatedSum(gate(alpha, temperature), state.h, tokenLinear(tokens, down)) as tf.Tensor3D, block);
    return next(x);
  };
}

/** The end of the ladder at `features`: final norm, pool, up-project to D, and fuse (or replace). */
export function fuseSideTransform(owner: string, finalNorm: NormParams, up: LinearParams, fusion: { alpha: tf.Variable; temperature: number } | undefined): Transform<'features'> {
  return (features, next, ctx) => {
    const base = next(features);
    const state = stateOf(ctx, owner);
    scratchOf(ctx, owner).delete(owner);
    const side = linear(poolSide(state.h, finalNorm, state.poolFirst), up.weight as tf.Tensor2D, up.bias as tf.Tensor1D);
    return (fusion ? gatedSum(gate(fusion.alpha, fusion.temperature), side, base) : side) as tf.Tensor2D;
  };
}
