import { applyPeft, compose, describeBackend, listPresets, loadPeftModel, type MethodInstance } from '@vpeft/core';
import { startBackend } from '../start-backend';
import { resolveBackbone } from '../backbones';
import { discoverPlugins } from '../plugins';
import { parseMethodSpecs } from '../method-spec';
import type { Output } from '../output';
import { formatPlacements, methodPlacements } from '../method-placement';

/** Options of `vpeft inspect`. */
export interface InspectOptions {
  backbone: string;
  weights?: string;
  config?: string;
  methods: string[];
  adapter?: string;
  classes: number;
  backend?: string;
}

/** `vpeft inspect`: the backend, the backbone, the methods and the parameter table. */
export async function inspectCommand(options: InspectOptions, out: Output): Promise<void> {
  const backend = await startBackend(options.backend);
  const installed = await discoverPlugins();
  const { backbone, description } = await resolveBackbone({ ...options, shapesOnly: true });
  const model = options.adapter
    ? await loadPeftModel(backbone, options.adapter)
    : applyPeft(backbone, options.methods.length ? compose(...parseMethodSpecs(options.methods)) : [], { numClasses: options.classes });
  const summary = model.summary();
  const placements = methodPlacements(model);
  out.result(
    {
      backend: describeBackend(backend),
      backbone: description,
      installedMethods: installed,
      installedPresets: listPresets(),
      methods: model.methods.map((m: MethodInstance<object>, i) => ({ name: m.name, method: m.definition.name, options: m.options, sites: placements[i]!.sites, parameters: placements[i]!.parameters })),
      sites: backbone.sites().length,
      summary,
    },
    () =>
      [
        `backend:   ${describeBackend(backend)}`,
        `backbone:  ${description} (${backbone.sites().length} sites)`,
        `methods:   ${model.methods.map((m) => `${m.name}(${JSON.stringify(m.options)})`).join(' + ') || '(none: linear probe)'}`,
        `installed: ${installed.join(', ')}${listPresets().length ? `; presets: ${listPresets().join(', ')}` : ''}`,
        ...(placements.length ? ['where each method acts (by site role):', ...formatPlacements(placements)] : []),
        '',
        model.summaryTable(),
      ].join('\n'),
  );
  model.dispose({ backbone: true });
}
