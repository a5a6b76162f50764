/**
 * @vpeft/multitask — one frozen backbone, many tasks: methods shared by all tasks, methods per task
 * (any registered method, composed as usual), a head per task, routing inside a mixed batch,
 * task sampling, per-task validation and the multi-task score Δm.
 */
export { createMultiTaskModel, MultiTaskModel, headParameterName, type TaskLogits, type TaskGroup, type MultiTaskModelParts } from './model';
export { resolveTasks, taskInstanceName, TASK_NAME, type TaskSpec, type MultiTaskOptions, type ResolvedTask } from './options';
export { summarizeMultiTask, formatMultiTaskSummary, type MultiTaskSummary, type TaskParameterCount } from './summary';
export { taskProbabilities, planEpoch, TASK_SAMPLINGS, type TaskSampling, type PlannedSample, type EpochPlanOptions } from './sampling';
export { datasetTaskSource, multiTaskTrainData, type MultiTaskBatch, type TaskSource } from './data';
export { multiTaskGradients } from './loss';
export { fitMultiTask, evaluateTasks, type MultiTaskData, type MultiTaskFitOptions, type MultiTaskFitResult } from './fit-multitask';
export {
  saveMultiTaskAdapter,
  loadMultiTaskWeights,
  loadTaskModel,
  readMultiTaskConfig,
  taskWeightsFile,
  MULTITASK_CONFIG_FILE,
  SHARED_WEIGHTS_FILE,
  type MultiTaskAdapterConfig,
  type MultiTaskPart,
} from './files';
export { deltaM } from './metrics';
export { TaskError } from './errors';
