export { createDataParallelTrainer, splitBatch, type DataParallelOptions, type DataParallelTrainer } from './data-parallel-trainer';
