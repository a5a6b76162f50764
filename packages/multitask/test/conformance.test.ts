import { compose } from '@vpeft/core';
import { describeMethodConformance } from '@vpeft/core/testing';
import { adapter } from '@vpeft/method-adapter';
import { lora } from '@vpeft/method-lora';
import { vpt } from '@vpeft/method-vpt';
import { resolveTasks } from '../src/index';

// What a task of a multi-task model runs is the composition of the shared methods and the task's
// own (renamed) instances; each such composition passes the method conformance suite.
const tasks = [
  { name: 'a', numClasses: 3, methods: adapter({ bottleneck: 4 }) },
  { name: 'b', numClasses: 5, methods: compose(lora({ r: 2, targets: ['blocks.1.mlp.fc1'] }), vpt({ tokens: 3, deep: true })) },
];

function taskComposition(task: 'a' | 'b') {
  const resolved = resolveTasks({ shared: lora({ r: 4 }), tasks });
  return compose(...resolved.shared, ...resolved.tasks.find((t) => t.name === task)!.methods);
}

describeMethodConformance({ name: 'multitask task a: shared lora + a-adapter', methods: () => taskComposition('a'), backend: 'cpu' });
describeMethodConformance({ name: 'multitask task b: shared lora + b-lora + b-vpt', methods: () => taskComposition('b'), backend: 'cpu' });
