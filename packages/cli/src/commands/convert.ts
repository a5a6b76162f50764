import { existsSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CHECKPOINT_LAYOUTS, convertCheckpoint, writeConverted, type CheckpointLayout, type ConvertOptions } from '@vpeft/convert';
import { VpeftError } from '@vpeft/core';
import { UsageError } from '../errors';
import { checkOutputFile } from '../output-path';
import { positiveInteger } from '../parse-number';
import type { Output } from '../output';

const HELP = `vpeft convert --from npz|hf|dinov2|clip IN --out model.safetensors [options]

Reads a ViT checkpoint in a foreign layout and writes timm-named .safetensors with the config in its
metadata, so every other command loads it: vpeft inspect --backbone model.safetensors

  --from npz      Google/big_vision ViT .npz (ViT-B_16.npz ...)
  --from hf       Hugging Face transformers ViT model.safetensors (config.json next to it is read)
  --from dinov2   facebookresearch/dinov2 weights as .safetensors (patch 14, layer scale, registers)
  --from clip     OpenAI/OpenCLIP image tower as .safetensors (projection dropped)
  --heads N       attention heads when the checkpoint does not record them (default: width / 64)
  --image-size N  dinov2: interpolate the position embedding for this input size (multiple of 14)
  --act A         clip: quick-gelu (OpenAI, default) or gelu (most OpenCLIP models)
  --hf-config F   hf: the model's config.json (default: next to IN)
  --name NAME     config name to record
`;

/** `vpeft convert --from LAYOUT IN --out FILE`: a foreign ViT checkpoint → timm-named safetensors. */
export async function convertCommand(args: string[], out: Output): Promise<void> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const from = values.from;
  if (!from || !(CHECKPOINT_LAYOUTS as readonly string[]).includes(from)) {
    throw new UsageError(`vpeft convert needs --from ${CHECKPOINT_LAYOUTS.join('|')}${from ? `, got "${from}"` : ''}`);
  }
  if (positionals.length !== 1) throw new UsageError(`vpeft convert needs one input checkpoint, got ${positionals.length ? positionals.join(' ') : 'none'}`);
  const input = positionals[0]!;
  if (!existsSync(input)) throw new UsageError(`convert: ${input}: no such file`);
  if (!statSync(input).isFile()) throw new UsageError(`convert: ${input}: is a folder; give the checkpoint file`);
  if (!values.out) throw new UsageError('vpeft convert needs --out FILE.safetensors');
  if (!values.out.endsWith('.safetensors')) throw new UsageError(`--out expects a .safetensors path, got "${values.out}"`);
  checkOutputFile(values.out);
  if (values.act !== undefined && values.act !== 'gelu' && values.act !== 'quick-gelu') throw new UsageError(`--act expects gelu or quick-gelu, got "${values.act}"`);
  const options: ConvertOptions = {
    numHeads: values.heads === undefined ? undefined : positiveInteger(values.heads, 'heads'),
    imageSize: values['image-size'] === undefined ? undefined : positiveInteger(values['image-size'], 'image-size'),
    activation: values.act as ConvertOptions['activation'],
    hfConfig: values['hf-config'],
    name: values.name,
  };
  let converted: Awaited<ReturnType<typeof convertCheckpoint>>;
  try {
    converted = await convertCheckpoint(from as CheckpointLayout, input, options);
  } catch (error) {
    // A file that does not hold what --from says is bad input: one line, exit 2.
    if (error instanceof VpeftError) throw new UsageError(`convert --from ${from}: ${error.message}`);
    throw error;
  }
  await writeConverted(values.out, converted, `${from}:${input}`);
  const { config } = converted;
  out.result(
    { out: values.out, from, config, tensors: converted.tensors.size, notes: converted.notes },
    () =>
      [
        `wrote ${values.out}: ${config.name} (width ${config.embedDim}, ${config.depth} blocks, ${config.numHeads} heads, patch ${config.patchSize}, ${config.imageSize} px), ${converted.tensors.size} tensors in timm names`,
        ...converted.notes.map((n) => `  note: ${n}`),
        `use it: vpeft inspect --backbone ${values.out}`,
      ].join('\n'),
  );
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      from: { type: 'string' },
      out: { type: 'string' },
      heads: { type: 'string' },
      'image-size': { type: 'string' },
      act: { type: 'string' },
      'hf-config': { type: 'string' },
      name: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
