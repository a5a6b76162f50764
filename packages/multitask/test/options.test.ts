import { createViT, initBackend } from '@vpeft/core';
import { bitfit } from '@vpeft/method-bitfit';
import { lora } from '@vpeft/method-lora';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMultiTaskModel, resolveTasks } from '../src/index';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('task options', () => {
  it('rejects duplicate task names', () => {
    expect(() => resolveTasks({ tasks: [{ name: 'digits', numClasses: 5 }, { name: 'digits', numClasses: 3 }] })).toThrow(
      'multitask: duplicate task name "digits"; every task needs its own name',
    );
  });

  it('rejects no tasks, bad names and bad class counts, naming the option', () => {
    expect(() => resolveTasks({ tasks: [] })).toThrow('option `tasks` got');
    expect(() => resolveTasks({ tasks: [{ name: 'Digits-1', numClasses: 5 }] })).toThrow('lowercase letters, digits and "_", starting with a letter');
    expect(() => resolveTasks({ tasks: [{ name: 'a', numClasses: 0 }] })).toThrow('option `tasks.a.numClasses` got 0; expected a positive integer');
    expect(() => resolveTasks({ tasks: [{ name: 'a', numClasses: 2, classNames: ['x'] }] })).toThrow('tasks.a.classNames');
  });

  it('rejects a per-task partial method (it would unfreeze weights every task shares)', () => {
    expect(() => resolveTasks({ tasks: [{ name: 'a', numClasses: 2, methods: bitfit() }] })).toThrow('task "a" has the partial-based method "bitfit"');
  });

  it('names task instances <task>-<name>, so a task may reuse a shared method', () => {
    const { shared, tasks } = resolveTasks({ shared: lora({ r: 4 }), tasks: [{ name: 'a', numClasses: 2, methods: lora({ r: 2 }) }] });
    expect(shared.map((m) => m.name)).toEqual(['lora']);
    expect(tasks[0]!.methods.map((m) => [m.name, (m.options as { r: number }).r])).toEqual([['a-lora', 2]]);
    const model = createMultiTaskModel(createViT('vit_test_patch8_32'), { shared: lora({ r: 4 }), tasks: [{ name: 'a', numClasses: 2, methods: lora({ r: 2 }) }] });
    expect(model.parameters.names().filter((n) => n.startsWith('a-lora.'))).toHaveLength(2 * 2 * 2); // 2 blocks × q, v × A, B
    expect(() => model.task('b')).toThrow('unknown task "b"; this model\'s tasks: a');
    model.dispose({ backbone: true });
  });
});
