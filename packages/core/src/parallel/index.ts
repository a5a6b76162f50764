export { batchGradients, type BatchGradients, type BatchGradientsOptions } from './batch-gradients';
export { createDataParallelTrainer, splitBatch, type DataParallelOptions, type DataParallelTrainer } from './data-parallel-trainer';
