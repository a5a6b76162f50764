import { parseArgs, type ParseArgsConfig } from 'node:util';
import { namedBackbones } from './backbones';
import { benchCommand } from './commands/bench';
import { cacheCommand } from './commands/cache';
import { convertCommand } from './commands/convert';
import { demoCommand } from './commands/demo';
import { evalCommand } from './commands/eval';
import { inspectCommand } from './commands/inspect';
import { mergeCommand } from './commands/merge';
import { trainCommand } from './commands/train';
import { discoverPlugins, PLUGINS_ENV, takePluginOptions, usePlugins } from './plugins';
import { debugRequested, reportError } from './error-boundary';
import { UsageError } from './errors';
import { checkOutputFile } from './output-path';
import { positiveInteger } from './parse-number';
import { checkSingleTaskAdapter } from './single-task-adapter';
import { processOutput, type Output } from './output';

const COMMON = {
  backbone: { type: 'string', default: 'vit_tiny_patch16_224' },
  weights: { type: 'string' },
  config: { type: 'string' },
  method: { type: 'string', multiple: true, default: [] as string[] },
  classes: { type: 'string', default: '10' },
  backend: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

/** The help text; lists the backbones registered so far (call after plugin discovery). */
const help = () => `vpeft — parameter-efficient fine-tuning of vision models on TensorFlow.js

usage:
  vpeft inspect [--backbone B] [--method name:key=value,...]... [--classes N] [--adapter DIR]
  vpeft merge   --backbone B [--weights W] --adapter DIR --out merged.safetensors
  vpeft train   --backbone B --data D [--method M]... [recipe options] [--out DIR]   (vpeft train --help)
  vpeft train   --backbone B --task NAME=D --task NAME=D [--method M]... [--task-method NAME=M]...   multi-task
  vpeft eval    --backbone B --adapter DIR --data D [--split test|val] [--skip-corrupt]
                [--task NAME: one task of a multi-task adapter; --data defaults to its own]
  vpeft bench   --spec GRID.yaml [--out DIR] [--shard i/N]   run a V-PEFT Bench grid (vpeft bench --help)
  vpeft bench merge [--out DIR]   join shard results and write the reports
  vpeft convert --from npz|hf|dinov2|clip IN --out model.safetensors   (vpeft convert --help)
  vpeft cache   [--clear]   the feature cache's folder and size; --clear empties it
  vpeft demo    fine-tune the bundled pre-trained ViT on MNIST digits 5-9: linear probe vs LoRA

common options:
  --backbone B   ${Object.keys(namedBackbones()).join(', ')}, or a .safetensors checkpoint
  --weights W    timm .safetensors weights for a ViT config name
  --method M     a method and its options, e.g. lora:r=8,slices=q|v  (repeat to compose, in order)
  --backend X    auto (default), tfjs-node-gpu, tfjs-node, webgpu, wasm, cpu (or VPEFT_BACKEND)
  --plugin P     import a vpeft plugin (package name or path) that registers methods, backbones or
                 adapter formats; repeatable. Installed packages with the package.json keyword
                 "vpeft-plugin" load by themselves; also VPEFT_PLUGINS=a,b (workers honour it)
  --json         machine-readable output
  --debug        print the stack trace of an error (also VPEFT_DEBUG=1)

exit codes: 0 done, 2 bad input (options, data, files), 1 failure while running
`;

/** Extra commands registered by other modules (train/eval), so this file stays a dispatcher. */
export type Command = (args: string[], out: Output) => Promise<void>;
const extraCommands = new Map<string, Command>([
  ['train', trainCommand],
  ['eval', evalCommand],
  ['demo', demoCommand],
  ['bench', benchCommand],
  ['convert', convertCommand],
  ['cache', cacheCommand],
]);

/** Registers a subcommand. */
export function registerCommand(name: string, command: Command): void {
  extraCommands.set(name, command);
}

function parse<T extends ParseArgsConfig['options']>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * Runs the CLI with `argv` (without node and script); returns the exit code. Errors are reported
 * as one line on stderr (see `error-boundary.ts`); `--debug` anywhere adds the stack trace.
 */
export async function runCli(argv: string[]): Promise<number> {
  const debug = debugRequested(argv);
  const pluginsEnv = process.env[PLUGINS_ENV];
  try {
    // --plugin is global: taken out here, imported by every command's plugin discovery (and by workers).
    const { args: rest, plugins } = takePluginOptions(argv.filter((arg) => arg !== '--debug'));
    usePlugins(plugins);
    const [command, ...args] = rest;
    const json = args.includes('--json');
    const out = processOutput(json);
    switch (command) {
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        await discoverPlugins();
        process.stdout.write(help());
        return command === undefined ? 2 : 0;
      case 'inspect': {
        const { values } = parse(args, { ...COMMON, adapter: { type: 'string' } });
        if (values.help) return await printHelp();
        if (values.adapter) checkSingleTaskAdapter(values.adapter, 'inspect');
        if (values.adapter && values.method?.length) throw new UsageError(`vpeft inspect takes --adapter DIR (its methods are saved in it) or --method, not both; got --adapter ${values.adapter} and --method ${values.method.join(' --method ')}`);
        await inspectCommand(
          { backbone: values.backbone!, weights: values.weights, config: values.config, methods: values.method ?? [], adapter: values.adapter, classes: positiveInteger(values.classes!, 'classes'), backend: values.backend },
          out,
        );
        return 0;
      }
      case 'merge': {
        const { values } = parse(args, { ...COMMON, adapter: { type: 'string' }, out: { type: 'string' } });
        if (values.help) return await printHelp();
        if (!values.adapter) throw new UsageError('vpeft merge needs --adapter DIR');
        if (!values.out) throw new UsageError('vpeft merge needs --out FILE.safetensors');
        checkOutputFile(values.out);
        checkSingleTaskAdapter(values.adapter, 'merge');
        await mergeCommand({ backbone: values.backbone!, weights: values.weights, config: values.config, adapter: values.adapter, out: values.out, backend: values.backend }, out);
        return 0;
      }
      default: {
        const extra = extraCommands.get(command);
        if (!extra) throw new UsageError(`unknown command "${command}"; commands: inspect, merge, ${[...extraCommands.keys()].join(', ')}`);
        await extra(args, out);
        return 0;
      }
    }
  } catch (error) {
    return reportError(error, { debug });
  } finally {
    // --plugin and a config file's plugins: apply to this run only.
    if (pluginsEnv === undefined) delete process.env[PLUGINS_ENV];
    else process.env[PLUGINS_ENV] = pluginsEnv;
  }
}

async function printHelp(): Promise<number> {
  await discoverPlugins();
  process.stdout.write(help());
  return 0;
}
